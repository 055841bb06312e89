"""What the command line shows: clocks round to the tenth without showing 60 seconds."""

import pytest

from voiceguide import terminal


@pytest.mark.parametrize("ms, shown", [(0, "00:00.0"), (59_940, "00:59.9"), (59_960, "01:00.0"),
                                       (119_999, "02:00.0"), (570_600, "09:30.6"), (3_600_000, "60:00.0")])
def test_minutes_round_to_the_tenth_and_never_show_60_seconds(ms, shown):
    assert terminal.minutes(ms) == shown


def test_the_check_report_clock_rounds_the_same_way():
    from voiceguide.core.audio import RATE
    from voiceguide.plan.report import clock

    assert clock(int(299.96 * RATE)) == "05:00.0"  # a 5-minute fit within its tolerance (was "04:60.0")
    assert clock(int(570.6 * RATE)) == "09:30.6"
