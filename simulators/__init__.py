"""Working stand-ins of the systems onequeue talks to, for tests, the demo and benchmarks:
real HTTP servers on loopback that keep state and can be told to fail."""
from simulators.hotline_8180 import Hotline8180
from simulators.http_base import StandInServer
from simulators.platform_12315 import Platform12315
from simulators.receiver import RecordingReceiver
from simulators.twilio_api import TwilioStandIn
from simulators.workorders_12345 import WorkOrder12345

__all__ = ["Hotline8180", "Platform12315", "RecordingReceiver", "StandInServer", "TwilioStandIn", "WorkOrder12345"]
