"""Every retry waits the same way: doubling from its base, capped, with jitter that only ever shortens a wait."""
from tickets.backoff import backoff_seconds


def test_waits_double_from_the_base_up_to_the_cap():
    assert [backoff_seconds(n, 5, 60, jitter=False) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]


def test_jitter_keeps_a_wait_between_half_and_all_of_it():
    waits = [backoff_seconds(3, 10, 1800) for _ in range(200)]
    assert all(20 <= w <= 40 for w in waits)
    assert len(set(waits)) > 1


def test_an_attempt_count_past_any_sense_still_waits_the_cap():
    assert backoff_seconds(10_000, 0.5, 30, jitter=False) == 30
