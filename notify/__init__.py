"""Notifications: SMS to the people who must act, as durable rows sent once through Twilio's Messages API, and
the links they carry to the station's phone page (`notify.links`).

Exports planning (called in the transaction that decides a message) and the sender job.
"""
from notify.models import SmsMessage
from notify.outbound import LinkTo, Planned, Recipient, SmsPolicy, SmsSender, e164, message_key, plan, plan_many
from notify.planning import dispatch_notice, plan_dispatch_sms, plan_recall_sms

__all__ = ["LinkTo", "Planned", "SmsMessage", "Recipient", "SmsPolicy", "SmsSender", "dispatch_notice", "e164", "message_key",
           "plan", "plan_dispatch_sms", "plan_many", "plan_recall_sms"]
