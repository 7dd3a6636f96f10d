"""Working stand-ins of the systems onequeue talks to, for tests, the demo and benchmarks:
real HTTP servers on loopback that keep state and can be told to fail."""
from simulators.http_base import StandInServer
from simulators.receiver import RecordingReceiver
from simulators.twilio_api import TwilioStandIn
from simulators.workorders_12345 import WorkOrder12345

__all__ = ["RecordingReceiver", "StandInServer", "TwilioStandIn", "WorkOrder12345"]
