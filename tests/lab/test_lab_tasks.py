"""Task generators: structure, determinism, targets."""
import itertools

import pytest
import torch

from attn_ref.lab import (IGNORE, AssociativeRecall, NeedleHaystack, PreviousTokenCopy, RepeatedSequences,
                          make_task)


def g(seed=0):
    return torch.Generator().manual_seed(seed)


def test_repeated_sequences_structure():
    task = RepeatedSequences(vocab_size=64, length=32, min_period=4, max_period=12, max_prefix=8)
    b = task.sample(64, g())
    assert b.tokens.shape == (64, 32)
    for i in range(64):
        t, p, a = b.tokens[i], int(b.info["period"][i]), int(b.info["start"][i])
        assert 4 <= p <= 12 and 0 <= a <= 8
        assert len(set(t[:a + p].tolist())) == a + p                   # prefix + segment distinct
        assert torch.equal(t[a + p:], t[a:32 - p])                     # periodic after the prefix
    assert torch.equal(b.targets[:, :-1], b.tokens[:, 1:])
    assert (b.targets[:, -1] == IGNORE).all()
    assert len(set(b.info["period"].tolist())) > 3 and len(set(b.info["start"].tolist())) > 3


def test_tasks_are_deterministic_per_generator():
    for task in (RepeatedSequences(), PreviousTokenCopy(), AssociativeRecall(n_pairs=(4, 8)),
                 NeedleHaystack(), NeedleHaystack(filler="bigram", n_queries=(1, 2))):
        a, b, c = task.sample(8, g(1)), task.sample(8, g(1)), task.sample(8, g(2))
        assert torch.equal(a.tokens, b.tokens) and torch.equal(a.targets, b.targets)
        assert not torch.equal(a.tokens, c.tokens) or a.tokens.shape != c.tokens.shape
        assert make_task(task.to_dict()) == task


def test_previous_token_copy():
    b = PreviousTokenCopy(vocab_size=10, length=5).sample(3, g())
    assert torch.equal(b.targets[:, 1:], b.tokens[:, :-1]) and (b.targets[:, 0] == IGNORE).all()


def test_associative_recall_layout():
    task = AssociativeRecall(n_pairs=8, n_queries=4, n_keys=32, n_values=16)
    b = task.sample(16, g())
    assert b.tokens.shape == (16, 2 * 8 + 4)
    for i in range(16):
        t = b.tokens[i]
        keys, vals = t[0:16:2], t[1:16:2]
        assert len(set(keys.tolist())) == 8 and (keys < 32).all() and (vals >= 32).all()
        table = dict(zip(keys.tolist(), vals.tolist()))
        for j in range(16, 20):
            assert b.targets[i, j].item() == table[t[j].item()]
        assert (b.targets[i, :16] == IGNORE).all()
    assert b.info["query_mask"].sum() == 16 * 4


@pytest.mark.parametrize("order", ["key_value", "value_key"])
def test_needle_lands_at_depth_with_distinct_distractors(order):
    for depth, expect in ((0.0, 0), (1.0, 59), (0.5, 30)):             # H = 62, start = round(depth * 59)
        task = NeedleHaystack(context_len=64, depth=depth, n_distractors=3, order=order)
        b = task.sample(32, g(3))
        assert (b.info["needle_start"] == expect).all()
        k_off, v_off = (1, 2) if order == "key_value" else (2, 1)
        for i in range(32):
            t = b.tokens[i]
            s = expect
            assert t[s] == task.MARK and t[s + k_off] == b.info["key"][i] and t[s + v_off] == b.info["answer"][i]
            assert t[-2] == task.QUERY and t[-1] == b.info["key"][i]
            assert b.targets[i, -1] == b.info["answer"][i]
            starts = [s, *b.info["distractor_starts"][i].tolist()]
            spans = sorted(starts)
            assert all(b2 - b1 >= 3 for b1, b2 in itertools.pairwise(spans))      # no overlap
            assert all(0 <= x <= 59 for x in spans)
            keys = [t[x + k_off].item() for x in starts]
            vals = [t[x + v_off].item() for x in starts]
            assert len(set(keys)) == 4 and len(set(vals)) == 4
            assert (t == task.MARK).sum() == 4
        assert torch.equal(b.info["needle_pos"], b.info["needle_start"] + v_off)


def test_needle_filler_targets_and_weights():
    task = NeedleHaystack(context_len=48, n_distractors=2, filler="bigram")
    b = task.sample(8, g(5))
    succ = task.successors()
    fm = b.info["filler_mask"]
    for i in range(8):
        for j in fm[i].nonzero().flatten().tolist():
            cur, nxt = b.tokens[i, j] - task.filler_offset, b.tokens[i, j + 1] - task.filler_offset
            assert nxt.item() in succ[cur].tolist()                    # the bigram chain
            assert b.targets[i, j] == b.tokens[i, j + 1]
    assert torch.allclose(b.weights[:, :-1].sum(1), torch.ones(8))     # filler term is a per-sample mean
    assert (b.weights[:, -1] == 1).all()
    assert 0 < task.optimal_filler_loss() <= torch.log(torch.tensor(2.0)).item() + 1e-9


def test_needle_multi_query():
    task = NeedleHaystack(context_len=64, n_distractors=3, n_queries=3)
    b = task.sample(4, g(7))
    H = 64 - 8
    assert (b.tokens[:, H] == task.QUERY).all() and (b.tokens[:, H + 3] == task.QUERY).all()
    assert (b.targets[:, H + 1] != IGNORE).all() and (b.targets[:, H + 4] != IGNORE).all()
    assert torch.equal(b.tokens[:, H + 2], b.targets[:, H + 1])        # earlier answers are shown
    assert torch.equal(b.targets[:, -1], b.info["answer"])


def test_task_arguments_are_checked():
    with pytest.raises(ValueError, match="depth"):
        NeedleHaystack(depth=1.5)
    with pytest.raises(ValueError, match="too short"):
        NeedleHaystack(context_len=16, n_distractors=3)
    with pytest.raises(ValueError, match="max_prefix"):
        RepeatedSequences(length=20, max_period=12)
    with pytest.raises(ValueError, match="n_pairs"):
        AssociativeRecall(n_pairs=200, n_keys=128)
    with pytest.raises(TypeError, match="generator"):
        RepeatedSequences().sample(2, 0)


@pytest.mark.parametrize("order", ["key_value", "value_key"])
def test_multi_needle_answers_match_a_brute_force_lookup(order):
    """8 needles, 4 questions: every answer is the value of the one needle in the haystack whose key is asked."""
    task = NeedleHaystack(context_len=64, depth=0.25, n_distractors=7, n_queries=4, order=order, filler="repeat")
    b = task.sample(16, g(11))
    H = task.haystack_len(4)
    k_off, v_off = (1, 2) if order == "key_value" else (2, 1)
    assert b.info["query_pos"].tolist() == [H + 1, H + 4, H + 7, H + 10] and H + 10 == 63
    for i in range(16):
        t = b.tokens[i].tolist()
        needles = [(t[s + k_off], t[s + v_off]) for s in range(H) if t[s] == task.MARK]    # (key, value)
        assert len(needles) == 8 and len({k for k, _ in needles}) == 8
        assert all(s + 2 < H for s in range(H) if t[s] == task.MARK)                     # inside the haystack
        for n, p in enumerate(b.info["query_pos"].tolist()):
            assert t[p - 1] == task.QUERY
            value = [v for k, v in needles if k == t[p]]
            assert len(value) == 1
            assert b.targets[i, p] == value[0] == b.info["answers"][i, n]
            if p + 1 < 64:
                assert t[p + 1] == value[0]                                               # earlier answers shown
        asked = b.info["asked"][i].tolist()
        assert asked[-1] == 0 and sorted(asked[:-1]) == [1, 2, 3]                      # depth needle asked last
        assert t[b.info["needle_start"][i] + k_off] == t[-1]
    assert (b.info["needle_start"] == round(0.25 * (H - 3))).all()
    assert torch.equal(b.info["answers"][:, -1], b.info["answer"])
