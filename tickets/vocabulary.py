"""The words every part uses for a ticket: its kinds, priorities and statuses with their Chinese labels, both ways,
and China's time zone. One copy, so a 特急 order cannot turn into something else between two parts."""
from __future__ import annotations

from datetime import timedelta, timezone
from typing import Literal, Optional, get_args

# China has kept UTC+8 all year since 1991: a fixed offset needs no time-zone database on the machine.
CHINA_TZ = timezone(timedelta(hours=8), "CST")

Kind = Literal["complaint", "report", "consultation", "help", "suggestion"]
Priority = Literal["normal", "urgent", "very_urgent"]          # least to most urgent
Status = Literal["new", "triage", "dispatched", "accepted", "in_progress", "resolved", "closed",
                 "returned", "rejected", "withdrawn", "duplicate"]

KINDS: tuple[str, ...] = get_args(Kind)
PRIORITIES: tuple[str, ...] = get_args(Priority)
STATUSES: tuple[str, ...] = get_args(Status)

KIND_LABELS = {"complaint": "投诉", "report": "举报", "consultation": "咨询", "help": "求助", "suggestion": "建议"}
PRIORITY_LABELS = {"normal": "一般", "urgent": "紧急", "very_urgent": "特急"}
STATUS_LABELS = {
    "triage": "待分派", "new": "新工单", "dispatched": "已派发", "accepted": "已受理", "in_progress": "处理中",
    "resolved": "已办结", "closed": "已关闭", "returned": "已退回", "rejected": "不予受理", "withdrawn": "已撤销",
    "duplicate": "重复件",
}

# What a channel is called where a configuration gives it no label of its own.
CHANNEL_KIND_LABELS = {
    "12345": "12345热线", "12315": "12315平台", "filedrop_8180": "8180热线", "walk_in": "来人来访",
    "web_push": "网上投诉", "complaints_mail": "电子邮件", "open311": "应用上报", "rest": "商场平台",
}

KIND_OF_LABEL = {label: kind for kind, label in KIND_LABELS.items()}
PRIORITY_OF_LABEL = {label: priority for priority, label in PRIORITY_LABELS.items()}
STATUS_OF_LABEL = {label: status for status, label in STATUS_LABELS.items()}


def kind_label(kind: Optional[str]) -> str:
    """投诉 for complaint; a value outside the vocabulary is shown as it is."""
    return KIND_LABELS.get(kind, kind or "")


def priority_label(priority: Optional[str]) -> str:
    """特急 for very_urgent; a value outside the vocabulary is shown as it is."""
    return PRIORITY_LABELS.get(priority, priority or "")


def status_label(status: Optional[str]) -> str:
    """已派发 for dispatched; a value outside the vocabulary is shown as it is."""
    return STATUS_LABELS.get(status, status or "")


def is_urgent(priority: Optional[str]) -> bool:
    """Urgent and very urgent tickets' messages go at once, quiet hours or not."""
    return priority in PRIORITIES and priority != "normal"


def most_urgent(*priorities: Optional[str]) -> str:
    """The most urgent of the priorities given (normal if none is in the vocabulary)."""
    return max((p for p in priorities if p in PRIORITIES), key=PRIORITIES.index, default="normal")


def channel_label(channel) -> str:
    """What people call a configured channel: its own label, else its kind's (12345热线), else its name."""
    return getattr(channel, "label", "") or CHANNEL_KIND_LABELS.get(channel.kind, channel.name)
