"""Dispatch: decide which department, branch or service station handles a ticket, from units.yaml and rules.yaml.

Classifies the ticket, resolves its town and covering station, runs the ordered rules; records, never sends.
"""
from dispatch.decision import Decision, TicketFacts, TraceStep
from dispatch.directory import UnitDirectory
from dispatch.engine import Dispatcher
from dispatch.geography import Gazetteer, Place

__all__ = ["Decision", "Dispatcher", "Gazetteer", "Place", "TicketFacts", "TraceStep", "UnitDirectory"]
