"""scenes.kit.format: numbers for the screen and for the narration, and quoted tokens, against hand-written
expected strings (not against the formatter's own pieces)."""
import math

import pytest

from scenes.kit.format import grouped, percent, quoted, sci_parts, shown, spoken
from scenes.kit.lexicon import speakable


@pytest.mark.parametrize("value, kwargs, screen, speech", [
    (-0.5, {}, "\u22120.50", "\u22120.50"),
    (0.125, {"decimals": 1}, "0.1", "0.1"),
    (-0.001, {}, "0.00", "0.00"),  # −0.00 is shown without its sign
    (float("-inf"), {}, "\u2212\u221e", "\u2212\u221e"),
    (9.818e-12, {"sci": 2}, "9.8 \u00d7 10\u207b\u00b9\u00b2", "9.8 times 10\u207b\u00b9\u00b2"),
    (-3.33e-16, {"sci": 2}, "\u22123.3 \u00d7 10\u207b\u00b9\u2076", "\u22123.3 times 10\u207b\u00b9\u2076"),
    (9.96e-5, {"sci": 2}, "1.0 \u00d7 10\u207b\u2074", "1.0 times 10\u207b\u2074"),  # carries into the exponent
    (123456.0, {"sci": 3}, "1.23 \u00d7 10\u2075", "1.23 times 10\u2075"),
    (0.0421, {"auto": True}, "0.042", "0.042"),
    (0.53, {"auto": True}, "0.53", "0.53"),
    (0.00042, {"auto": True}, "4.2 \u00d7 10\u207b\u2074", "4.2 times 10\u207b\u2074"),
    (3.005e9, {"rough": True}, "3 billion", "3 billion"),
    (2.81e5, {"rough": True}, "280 thousand", "280 thousand"),
    (42.4, {"rough": True}, "42", "42"),
])
def test_shown_and_spoken(value, kwargs, screen, speech):
    assert shown(value, **kwargs) == screen
    assert spoken(value, **kwargs) == speech


@pytest.mark.parametrize("value, decimals, screen", [
    (126882, 0, "126,882"), (131072.0, 0, "131,072"), (1234.5, 1, "1,234.5"), (-12345.678, 2, "\u221212,345.68"),
    (999, 0, "999"), (-0.001, 2, "0.00"),
])
def test_shown_groups_thousands_on_request(value, decimals, screen):
    assert shown(value, decimals, group=True) == screen
    assert "," not in shown(value, decimals)  # off by default: the screens already rendered keep their digits


def test_percent_of_a_share():
    assert percent(0.14) == 14.000000000000002 and shown(percent(0.0017), 2) == "0.17" and percent(1) == 100


def test_grouped_is_a_whole_number_with_separators():
    assert grouped(126882) == "126,882" and grouped(131071.6) == "131,072" and grouped(512) == "512"


def test_spoken_scientific_reads_as_the_old_e_notation():
    # the narration used to write 3.3e-16; the kit's form is spoken the same by the lexicon
    assert speakable(spoken(3.33e-16, sci=2)) == speakable("3.3e-16") == (
        "three point three times ten to the minus sixteen")
    assert "by" not in speakable(spoken(9.818e-12, sci=2))


@pytest.mark.parametrize("bad", [0.0, float("nan"), float("inf")])
def test_scientific_needs_a_nonzero_finite_value(bad):
    with pytest.raises(ValueError, match="non-zero finite"):
        sci_parts(bad)


@pytest.mark.parametrize("bad", [float("nan"), float("-inf")])
def test_shown_scientific_rejects_non_finite(bad):
    with pytest.raises(ValueError, match="non-zero finite"):
        shown(bad, sci=2)
    with pytest.raises(ValueError, match="non-zero finite"):
        spoken(bad, sci=2)


def test_rough_needs_a_large_finite_value():
    for bad in (0.5, -3.0, math.inf):
        with pytest.raises(ValueError, match="rough"):
            shown(bad, rough=True)


def test_quoted():
    assert quoted("sat") == "\u201csat\u201d"
    assert quoted("the cat sat") == "\u201cthe cat sat\u201d"
    assert speakable(f"while it predicts what follows {quoted('sat')}") == "while it predicts what follows “sat”"
    with pytest.raises(ValueError, match="non-empty"):
        quoted(" ")
    with pytest.raises(TypeError, match="token string"):
        quoted(3)
