"""needle_haystack's additions: exact needle placement by distance, and the parts of a quick run's result."""
import pytest
import torch

from attn_ref.lab import NeedleHaystack, run_experiment
from attn_ref.lab.experiments.needle_haystack import distance_task


@pytest.mark.parametrize("length", [32, 64, 128])
def test_distance_task_puts_the_value_exactly_distance_tokens_before_the_answer(length):
    base = NeedleHaystack(context_len=64, n_distractors=3, filler="repeat")
    for dist in range(2, length - 2):
        t = distance_task(base, length, dist)
        b = t.sample(4, torch.Generator().manual_seed(dist))
        assert b.tokens.shape == (4, length)
        assert (b.info["needle_pos"] == length - 1 - dist).all()
        assert (b.tokens[torch.arange(4), b.info["needle_pos"]] == b.info["answer"]).all()
    for bad in (1, length - 2):
        with pytest.raises(ValueError, match="distance must be in"):
            distance_task(base, length, bad)


def test_quick_run_reports_every_part():
    m = run_experiment("needle_haystack", quick=True, threads=1)["metrics"]
    assert set(m["schemes"]) == {"rope", "rope_pi", "rope_yarn", "nope", "alibi", "sinusoidal", "learned"}
    assert m["train"]["learned"]["table_rows"] == 256 and m["train"]["learned"]["rows_trained"] == 64
    mn = m["multi_needle"]
    assert set(mn["schemes"]) == set(m["schemes"]) and mn["n_needles"] == 8 and mn["n_queries"] == 4
    for s in mn["schemes"].values():
        assert len(s["accuracy"]) == len(mn["lengths"]) and len(s["accuracy"][0]) == len(mn["depths"])
        assert len(s["accuracy_by_query"]) == 4
    sw = m["sliding_window"]
    assert sw["reach"] == 2 * (sw["window"] - 1) + 1 and sw["one_hop_reach"] == sw["window"] - 1
    # distance 40 does not fit in 32 tokens (at most L - 3 = 29): no number there
    assert sw["accuracy"]["32"][-1] is None and sw["accuracy"]["64"][-1] is not None
