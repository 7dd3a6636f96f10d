"""The working calendar across the 2026 National Day holiday (1–7 October, with Sunday 20 September and
Saturday 10 October worked instead), and a year the package does not carry."""
from __future__ import annotations

from datetime import datetime

import pytest

from settings import ConfigError, parse_yaml_model
from sla.calendar_cn import WorkCalendar, WorkingHours
from sla.config import CalendarConfig, SlaConfig
from tickets.vocabulary import CHINA_TZ


def cst(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


CAL = WorkCalendar()


def test_the_holiday_and_its_make_up_saturday_are_known():
    assert [CAL.is_workday(cst(2026, 10, d).date()) for d in range(1, 13)] == [
        False, False, False, False, False, False, False,  # 1–7 October: National Day
        True, True,                                        # Thursday 8, Friday 9
        True,                                              # Saturday 10: worked (调休)
        False, True]                                       # Sunday 11 off, Monday 12
    assert CAL.is_workday(cst(2026, 9, 20).date())         # a Sunday worked before the holiday


@pytest.mark.parametrize("days, due", [
    (1, cst(2026, 10, 8, 18)),    # the day of receipt is not counted; the holiday is skipped
    (2, cst(2026, 10, 9, 18)),
    (3, cst(2026, 10, 10, 18)),   # the make-up Saturday counts
    (4, cst(2026, 10, 12, 18)),   # Sunday 11 does not
    (15, cst(2026, 10, 27, 18)),
])
def test_working_days_from_the_eve_of_the_holiday(days, due):
    result = CAL.add_working_days(cst(2026, 9, 30, 10), days)
    assert result.at == due and not result.uncertain


def test_a_working_hour_started_before_the_holiday_ends_after_it():
    assert CAL.add_working_time(cst(2026, 9, 30, 17, 30), 3600).at == cst(2026, 10, 8, 9, 30)
    # lunch is not working time either
    assert CAL.add_working_time(cst(2026, 10, 8, 11, 30), 3600).at == cst(2026, 10, 8, 14, 30)
    # a deadline on the make-up Saturday, set on Friday evening
    assert CAL.add_working_time(cst(2026, 10, 9, 20), 2 * 3600).at == cst(2026, 10, 10, 11)


def test_points_before_a_deadline_land_inside_working_hours():
    due = cst(2026, 10, 10, 18)
    assert CAL.subtract_working_time(due, 2 * 3600).at == cst(2026, 10, 10, 16)
    assert CAL.subtract_working_time(due, 7 * 3600).at == cst(2026, 10, 10, 9)   # one working day
    # across the holiday: two working hours before 10:00 on 8 October is 17:00 on 30 September
    assert CAL.subtract_working_time(cst(2026, 10, 8, 10), 2 * 3600).at == cst(2026, 9, 30, 17)


def test_working_time_between_and_the_next_working_moment():
    seconds, uncertain = CAL.working_time_between(cst(2026, 9, 30, 17), cst(2026, 10, 8, 10))
    assert seconds == 2 * 3600 and not uncertain
    assert CAL.next_working_time(cst(2026, 10, 3, 22)) == cst(2026, 10, 8, 9)
    assert CAL.next_working_time(cst(2026, 10, 9, 20)) == cst(2026, 10, 10, 9)
    assert CAL.next_working_time(cst(2026, 10, 8, 12, 30)) == cst(2026, 10, 8, 14)
    assert CAL.is_working_time(cst(2026, 10, 10, 15))


def test_a_unit_with_its_own_hours():
    cal = WorkCalendar(unit_hours={"sd-amr-consumer": WorkingHours.parse("08:30-12:00,14:30-17:30")})
    consumer = cal.hours_for("sd-amr-consumer")
    assert cal.add_working_days(cst(2026, 9, 30, 10), 1, consumer).at == cst(2026, 10, 8, 17, 30)
    assert cal.add_working_days(cst(2026, 9, 30, 10), 1, cal.hours_for("st-daliang-01")).at == cst(2026, 10, 8, 18)


def test_a_deadline_in_a_year_without_data_is_flagged_and_exact_once_the_year_is_given():
    # given no 2027 schedule: weekends alone, and flagged
    guess = CAL.add_working_days(cst(2026, 12, 30, 10), 5)
    assert guess.uncertain and guess.uncertain_years == (2027,)
    assert guess.at == cst(2027, 1, 6, 18)          # 1 January counted as a plain Friday
    # a deadline that stays within 2026 is not flagged
    assert not CAL.add_working_days(cst(2026, 12, 1, 10), 5).uncertain
    # when config.yaml gives 2027's holidays and make-up days
    config = parse_yaml_model("""
calendar:
  years:
    2027:
      holidays: [2027-01-01, "2027-02-06..2027-02-13"]
      workdays: [2027-02-14]
""", SlaConfig)
    cal = config.calendar.build()
    exact = cal.add_working_days(cst(2026, 12, 30, 10), 5)
    assert not exact.uncertain and exact.at == cst(2027, 1, 7, 18)
    assert not cal.is_workday(cst(2027, 2, 8).date()) and cal.is_workday(cst(2027, 2, 14).date())
    assert cal.version != CAL.version


def test_calendar_errors_name_the_line():
    with pytest.raises(ConfigError) as err:
        parse_yaml_model("working_hours: 09:00-12:00\nyears:\n  2027:\n    holidays: [2026-12-31]\n", CalendarConfig,
                         file="config.yaml")
    assert "config.yaml:2" in str(err.value) and "2026-12-31 is not in 2027" in str(err.value)
    with pytest.raises(ConfigError) as err:
        parse_yaml_model("working_hours: 9-12\n", CalendarConfig, file="config.yaml")
    assert "config.yaml:1" in str(err.value)
