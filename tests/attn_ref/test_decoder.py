"""TinyDecoder and generate: cached decoding equals recomputation; left padding, seeded sampling, trace."""

import itertools

import pytest
import torch

from attn_ref.decoder import DecoderConfig, TinyDecoder, generate, positions_from_mask, sampling_distribution
from attn_ref.rope import RopeScaling
from attn_ref.trace import Trace

D64 = torch.float64


@pytest.fixture(scope="module")
def model():
    return (
        TinyDecoder(
            DecoderConfig(
                vocab_size=50, d_model=32, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=48, max_len=32, seed=3
            )
        )
        .to(D64)
        .eval()
    )


def test_seeded_init_is_deterministic_and_leaves_global_rng_alone():
    state = torch.get_rng_state()
    a, b = TinyDecoder(DecoderConfig(seed=1)), TinyDecoder(DecoderConfig(seed=1))
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a.embed.weight, TinyDecoder(DecoderConfig(seed=2)).embed.weight)


@pytest.mark.parametrize("static", [False, True])
def test_prefill_and_decode_logits_equal_full_forward(model, static):
    tokens = torch.randint(0, 50, (2, 9), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        full = model(tokens)
        caches = model.new_caches(2, static=static)
        parts = [model(tokens[:, :4], caches=caches)]
        parts += [model(tokens[:, t : t + 1], caches=caches) for t in range(4, 9)]
    torch.testing.assert_close(torch.cat(parts, dim=1), full, atol=1e-10, rtol=0)
    assert [len(c) for c in caches] == [9, 9]


def test_left_padded_batch_equals_unpadded_runs(model):
    prompts = [[5, 6, 7, 8, 9], [11, 12], [3, 4, 1]]
    out = generate(model, prompts, 4, temperature=0)
    assert out.shape == (3, 9) and out[1, :3].tolist() == [0, 0, 0]  # pad_id 0 on the left
    for row, p in zip(out, prompts, strict=True):
        alone = generate(model, [p], 4, temperature=0)[0]
        assert row[5 - len(p) :].tolist() == alone.tolist()
    # logits at real positions too
    tokens = torch.tensor([[0, 0, 0, 11, 12]])
    mask = tokens != 0
    with torch.no_grad():
        padded = model(tokens, positions=positions_from_mask(mask), attn_mask=mask)
        torch.testing.assert_close(padded[:, 3:], model(torch.tensor([[11, 12]])), atol=1e-10, rtol=0)


@pytest.mark.parametrize(
    "kw", [{"temperature": 0}, {"temperature": 0.9, "top_k": 8, "top_p": 0.9}, {"temperature": 1.3}]
)
def test_generate_with_and_without_cache_gives_the_same_tokens(model, kw):
    prompt = torch.tensor([[1, 2, 3, 4], [9, 8, 7, 6]])
    cached, t1 = Trace(), Trace()
    a = generate(model, prompt, 6, use_cache=True, seed=7, trace=cached, **kw)
    b = generate(model, prompt, 6, use_cache=False, seed=7, trace=t1, **kw)
    assert torch.equal(a, b) and a.shape == (2, 10) and torch.equal(a[:, :4], prompt)
    for s1, s2 in zip(cached, t1, strict=True):
        torch.testing.assert_close(s1["logits"], s2["logits"], atol=1e-10, rtol=0)


def test_trace_records_each_decode_step(model):
    trace = Trace()
    out = generate(model, torch.tensor([[1, 2, 3]]), 5, temperature=0.8, top_k=5, seed=1, trace=trace)
    steps = trace.of_kind("decode.step")
    assert len(steps) == 5 and [s.index for s in steps] == [(t,) for t in range(5)]
    assert [s["cache_len"] for s in steps] == [3, 4, 5, 6, 7]
    for t, s in enumerate(steps):
        assert s["probs"].sum().item() == pytest.approx(1.0, abs=1e-12)
        assert int((s["probs"] > 0).sum()) <= 5  # top-k support
        assert s["probs"][0, s["token"][0]] > 0  # drawn from that distribution
        assert s["token"][0] == out[0, 3 + t]
    assert torch.equal(steps[-1]["token"], out[:, -1])  # last state = output


def test_greedy_takes_the_argmax_and_sampling_follows_probs(model):
    trace = []
    generate(model, torch.tensor([[4, 5]]), 3, temperature=0, trace=trace)
    for s in trace:
        assert torch.equal(s["token"], s["logits"].argmax(-1))
        assert s["probs"].max() == 1.0
    t08 = []
    generate(model, torch.tensor([[4, 5]]), 1, temperature=0.5, trace=t08)
    expected = torch.softmax(t08[0]["logits"].double() / 0.5, -1)
    torch.testing.assert_close(t08[0]["probs"], expected, atol=1e-12, rtol=0)


def test_top_p_keeps_the_smallest_nucleus(model):
    trace = []
    generate(model, torch.tensor([[4, 5]]), 1, temperature=1.0, top_p=0.5, trace=trace)
    full = torch.softmax(trace[0]["logits"].double(), -1)[0]
    kept = trace[0]["probs"][0] > 0
    p_sorted, idx = full.sort(descending=True)
    n = int(kept.sum())
    assert set(idx[:n].tolist()) == set(kept.nonzero().flatten().tolist())  # the most likely tokens
    assert p_sorted[:n].sum() >= 0.5 and p_sorted[: n - 1].sum() < 0.5  # and no more than needed


def test_seed_reproducible(model):
    p = torch.tensor([[1, 2]])
    assert torch.equal(generate(model, p, 8, seed=5), generate(model, p, 8, seed=5))


def test_rope_scaling_config_runs_with_cache():
    cfg = DecoderConfig(
        n_layers=1, rope_scaling=RopeScaling("yarn", 4.0, 16), rope_pairing="interleaved", max_len=40
    )
    m = TinyDecoder(cfg).to(D64)
    tokens = torch.arange(20)[None] % 64
    with torch.no_grad():
        caches = m.new_caches(1)
        inc = torch.cat(
            [m(tokens[:, :12], caches=caches)]
            + [m(tokens[:, t : t + 1], caches=caches) for t in range(12, 20)],
            1,
        )
        torch.testing.assert_close(inc, m(tokens), atol=1e-10, rtol=0)


def test_errors(model):
    with pytest.raises(
        ValueError, match=r"prompt length \+ max_new_tokens must be <= max_len=32, got 30 \+ 5"
    ):
        generate(model, torch.zeros(1, 30, dtype=torch.long), 5)
    with pytest.raises(ValueError, match=r"top_p must be in \(0, 1\], got 1.5"):
        generate(model, [[1]], 1, top_p=1.5)
    with pytest.raises(
        ValueError, match=r"attn_mask \(key padding\) must have shape .* = \(1, 3\), got shape \(1, 2\)"
    ):
        model(torch.tensor([[1, 2, 3]]), attn_mask=torch.ones(1, 2, dtype=torch.bool))


# ------------------------------------------------------------------------------- sampling distribution
LOGITS = torch.tensor([[2.0, -1.0, 0.5, 3.0, 0.0, 1.0, -2.0, 1.5]], dtype=D64)


@pytest.mark.parametrize("k", [1, 3, 5, 8])
def test_top_k_keeps_exactly_k(k):
    p = sampling_distribution(LOGITS, 1.0, top_k=k)
    kept = (p[0] > 0).nonzero().flatten().tolist()
    assert sorted(kept) == sorted(LOGITS[0].topk(k).indices.tolist())
    torch.testing.assert_close(p[0, kept], torch.softmax(LOGITS[0, kept], -1), atol=1e-15, rtol=0)


@pytest.mark.parametrize("top_p", [0.05, 0.3, 0.5, 0.8, 0.95, 1.0])
def test_top_p_keeps_the_smallest_prefix_reaching_p(top_p):
    full = torch.softmax(LOGITS[0], -1)
    order = full.argsort(descending=True).tolist()
    m = next(i + 1 for i in range(8) if full[order[: i + 1]].sum() >= top_p)  # brute force: smallest prefix
    p = sampling_distribution(LOGITS, 1.0, top_p=top_p)[0]
    assert set((p > 0).nonzero().flatten().tolist()) == set(order[:m])
    torch.testing.assert_close(p[order[:m]], full[order[:m]] / full[order[:m]].sum(), atol=1e-15, rtol=0)


def test_temperature_to_zero_is_one_hot():
    tops = [sampling_distribution(LOGITS, t)[0, 3].item() for t in (1.0, 0.5, 0.1, 0.05)]
    assert all(b > a for a, b in itertools.pairwise(tops)) and 1 - 1e-8 < tops[-1] < 1  # T → 0: the argmax
    assert torch.equal(sampling_distribution(LOGITS, 0), torch.nn.functional.one_hot(torch.tensor([3]), 8).double())
    torch.testing.assert_close(sampling_distribution(LOGITS, 0.7), torch.softmax(LOGITS / 0.7, -1), atol=1e-15, rtol=0)
    hot = sampling_distribution(LOGITS, 1e6)
    torch.testing.assert_close(hot, torch.full_like(hot, 1 / 8), atol=1e-6, rtol=0)  # T → ∞: uniform
    both = sampling_distribution(LOGITS.expand(3, 8), 1.3, top_k=5, top_p=0.9)  # batched rows, k then p
    assert both.shape == (3, 8) and int((both[0] > 0).sum()) <= 5
    torch.testing.assert_close(both.sum(-1), torch.ones(3, dtype=D64), atol=1e-12, rtol=0)


def test_sampling_distribution_errors():
    with pytest.raises(ValueError, match=r"temperature must be a number >= 0, got -1"):
        sampling_distribution(LOGITS, -1)
    with pytest.raises(ValueError, match=r"top_p must be in \(0, 1\], got 0"):
        sampling_distribution(LOGITS, 1.0, top_p=0)
    with pytest.raises(ValueError, match=r"top_k must be > 0, got 0"):
        sampling_distribution(LOGITS, 1.0, top_k=0)
    with pytest.raises(TypeError, match=r"logits must be a floating-point tensor"):
        sampling_distribution(torch.tensor([1, 2]), 1.0)
