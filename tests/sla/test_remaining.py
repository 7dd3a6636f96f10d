"""The working time left that the queue shows beside each deadline."""
from datetime import datetime, timedelta, timezone

from sla.calendar_cn import WorkCalendar, WorkingHours
from sla.remaining import remaining

CST = timezone(timedelta(hours=8))
HOURS = WorkingHours.parse("09:00-12:00,14:00-18:00")  # seven hours a working day


def at(day, hour, minute=0):
    return datetime(2026, 12, day, hour, minute, tzinfo=CST)


def test_more_than_a_working_day_left_is_green_and_counts_days_and_hours():
    r = remaining(WorkCalendar(hours=HOURS), at(3, 11), at(1, 10))   # Tue 10:00 to Thu 11:00
    assert (r.state, r.label) == ("ok", "剩 2 个工作日 1 小时")


def test_the_last_working_day_is_amber_and_a_weekend_does_not_count():
    r = remaining(WorkCalendar(hours=HOURS), at(7, 10), at(4, 17))   # Fri 17:00 to Mon 10:00
    assert (r.state, r.label) == ("soon", "剩 2 小时")


def test_a_passed_deadline_is_red_and_says_by_how_much():
    r = remaining(WorkCalendar(hours=HOURS), at(1, 9), at(1, 15, 30))
    assert (r.state, r.label) == ("overdue", "已超期 4 小时 30 分钟")
    assert r.seconds == -(3 * 3600 + 1.5 * 3600)


def test_a_deadline_passed_in_the_night_is_overdue_all_the_same():
    r = remaining(WorkCalendar(hours=HOURS), at(1, 20), at(1, 22))
    assert r.state == "overdue"
