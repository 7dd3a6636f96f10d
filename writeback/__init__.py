"""Write-back: the outbox of results each source must learn, delivered with retries, in order, once in effect.

Exports `enqueue` (called in the transaction of a status change) and the delivery job `deliver_due`.
"""
from writeback.models import OutboxItem
from writeback.outbox import DeliveryPolicy, DeliveryReport, deliver_due, enqueue, retry_dead
from writeback.reconcile import ReconcileReport, reconcile

__all__ = ["OutboxItem", "DeliveryPolicy", "DeliveryReport", "deliver_due", "enqueue", "retry_dead",
           "ReconcileReport", "reconcile"]
