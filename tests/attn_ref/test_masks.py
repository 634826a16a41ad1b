"""attn_ref.masks: each mask against a brute-force double loop of its index rule, plus count checks."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_ref.core import sdpa
from attn_ref.masks import (
    additive_to_bool,
    bigbird_layout,
    bigbird_mask,
    block_layout_to_mask,
    bool_to_additive,
    causal_mask,
    fixed_mask,
    key_padding_to_attn_mask,
    longformer_mask,
    padding_mask,
    sink_window_mask,
    sliding_window_mask,
    strided_mask,
)


def loop_mask(n_q, n_k, rule):
    return torch.tensor([[bool(rule(i, j)) for j in range(n_k)] for i in range(n_q)], dtype=torch.bool).reshape(
        n_q, n_k)


def test_causal_documented_3x4():
    assert causal_mask(3, 4).int().tolist() == [[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0]]
    assert causal_mask(3, 4, "lower_right").int().tolist() == [[1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]


@pytest.mark.filterwarnings("ignore:Lower right causal bias")
def test_causal_matches_torch_bias_helpers():
    from torch.nn.attention.bias import causal_lower_right, causal_upper_left
    for n_q, n_k in [(3, 4), (4, 3), (1, 5), (5, 5)]:
        assert torch.equal(causal_mask(n_q, n_k), causal_upper_left(n_q, n_k)._materialize())
        assert torch.equal(causal_mask(n_q, n_k, "lower_right"), causal_lower_right(n_q, n_k)._materialize())


@settings(max_examples=20, deadline=None)
@given(n_q=st.integers(0, 7), n_k=st.integers(0, 7), window=st.integers(1, 8),
       alignment=st.sampled_from(["upper_left", "lower_right"]))
def test_causal_and_sliding_window_match_loops(n_q, n_k, window, alignment):
    off = 0 if alignment == "upper_left" else n_k - n_q
    assert torch.equal(causal_mask(n_q, n_k, alignment), loop_mask(n_q, n_k, lambda i, j: j <= i + off))
    want = loop_mask(n_q, n_k, lambda i, j: i + off - window < j <= i + off)
    assert torch.equal(sliding_window_mask(n_q, n_k, window, alignment), want)


@pytest.mark.parametrize("window", [1, 2, 3, 9])
def test_sliding_window_row_counts(window):
    n = 8
    counts = sliding_window_mask(n, n, window).sum(-1)
    assert counts.tolist() == [min(i + 1, window) for i in range(n)]
    # a large window is plain causal
    assert torch.equal(sliding_window_mask(n, n, n), causal_mask(n, n))


def test_padding_mask_right_and_left():
    assert padding_mask([2, 0, 3], 3).int().tolist() == [[1, 1, 0], [0, 0, 0], [1, 1, 1]]
    assert padding_mask([2, 0, 3], 3, side="left").int().tolist() == [[0, 1, 1], [0, 0, 0], [1, 1, 1]]
    m = padding_mask(torch.tensor([1, 4]), 4)
    assert key_padding_to_attn_mask(m).shape == (2, 1, 1, 4)


def test_key_padding_mask_in_attention_ignores_pad_values():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 2, 3, 4, generator=g, dtype=torch.float64) for _ in range(3))
    lengths = [2, 3]
    mask = key_padding_to_attn_mask(padding_mask(lengths, 3))
    out = sdpa(q, k, v, attn_mask=mask)
    k2, v2 = k.clone(), v.clone()
    k2[0, :, 2] = 1e3  # garbage at the padded key of sequence 0
    v2[0, :, 2] = -1e3
    torch.testing.assert_close(sdpa(q, k2, v2, attn_mask=mask), out, atol=1e-12, rtol=0)
    ref0 = F.scaled_dot_product_attention(q[:1, :, :, :], k[:1, :, :2], v[:1, :, :2])
    torch.testing.assert_close(out[:1], ref0, atol=1e-12, rtol=0)


def test_bool_additive_roundtrip():
    m = torch.tensor([[True, False], [False, False]])
    a = bool_to_additive(m, torch.float32)
    assert a.dtype == torch.float32
    assert a[0, 0] == 0 and torch.isneginf(a[0, 1]) and torch.isneginf(a[1]).all()
    assert torch.equal(additive_to_bool(a), m)
    assert torch.equal(additive_to_bool(torch.tensor([-3.0, float("-inf")])), torch.tensor([True, False]))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 12), half=st.integers(1, 3), dilation=st.integers(1, 3),
       glob=st.lists(st.integers(0, 11), max_size=3))
def test_longformer_matches_loop(n, half, dilation, glob):
    glob = sorted({g for g in glob if g < n})
    window = 2 * half

    def rule(i, j):
        if i in glob or j in glob:
            return True
        return abs(i - j) <= half * dilation and (i - j) % dilation == 0

    got = longformer_mask(n, window, global_tokens=glob, dilation=dilation)
    assert torch.equal(got, loop_mask(n, n, rule))
    assert torch.equal(got, got.T)  # symmetric pattern


def test_longformer_interior_count_is_window_plus_one_plus_globals():
    n, window, glob = 20, 4, [0, 19]
    m = longformer_mask(n, window, global_tokens=glob)
    for i in range(4, 16):  # interior rows: w + 1 local keys, none of them global, plus the 2 globals
        assert m[i].sum() == window + 1 + len(glob)
    assert m[0].all() and m[:, 19].all()
    m2 = longformer_mask(n, window, dilation=3)
    assert m2[10].nonzero().flatten().tolist() == [4, 7, 10, 13, 16]


def test_block_layout_to_mask_matches_loop():
    layout = torch.tensor([[1, 0, 1], [0, 1, 0]], dtype=torch.bool)
    got = block_layout_to_mask(layout, 2)
    assert got.shape == (4, 6)
    assert torch.equal(got, loop_mask(4, 6, lambda i, j: layout[i // 2, j // 2]))
    batched = block_layout_to_mask(torch.stack([layout, ~layout]), 3)
    assert batched.shape == (2, 6, 9) and torch.equal(batched[1], ~block_layout_to_mask(layout, 3))


def test_bigbird_layout_structure_and_counts():
    nb, wb, g, r = 12, 3, 2, 3
    lay = bigbird_layout(nb, window_blocks=wb, global_blocks=g, random_blocks=r, seed=5)
    assert lay[0].all() and lay[-1].all() and lay[:, 0].all() and lay[:, -1].all()  # global first/last
    for a in range(nb):
        for b in range(nb):
            if abs(a - b) <= 1:
                assert lay[a, b]  # sliding window of 3 blocks
    for a in range(2, nb - 2):  # interior blocks: window + globals + random
        assert lay[a].sum() == wb + g + r
    assert torch.equal(lay, bigbird_layout(nb, wb, g, r, seed=5))  # deterministic
    others = [bigbird_layout(nb, wb, g, r, seed=s) for s in range(1, 6)]
    assert any(not torch.equal(lay, o) for o in others)  # the random part depends on the seed
    # without random blocks the layout is exactly window | global
    plain = bigbird_layout(nb, wb, g, 0)
    want = loop_mask(nb, nb, lambda a, b: abs(a - b) <= 1 or a in (0, nb - 1) or b in (0, nb - 1))
    assert torch.equal(plain, want)


def test_bigbird_mask_is_expanded_layout():
    m = bigbird_mask(24, 2, seed=3)
    lay = bigbird_layout(12, seed=3)
    assert torch.equal(m, loop_mask(24, 24, lambda i, j: lay[i // 2, j // 2]))


# ---------------------------------------------------------------- bad input

def test_bad_window():
    with pytest.raises(ValueError, match="window must be > 0"):
        sliding_window_mask(4, 4, 0)
    with pytest.raises(ValueError, match="window must be > 0"):
        longformer_mask(4, -2)
    with pytest.raises(ValueError, match="window must be even"):
        longformer_mask(4, 3)


def test_bad_alignment_and_sizes():
    with pytest.raises(ValueError, match="alignment must be one of"):
        causal_mask(3, 4, alignment="bottom")
    with pytest.raises(ValueError, match="n_q must be >= 0"):
        causal_mask(-1, 4)
    with pytest.raises(ValueError, match="lengths must lie in"):
        padding_mask([5], 3)
    with pytest.raises(ValueError, match="side must be one of"):
        padding_mask([1], 3, side="middle")
    with pytest.raises(ValueError, match="global_tokens"):
        longformer_mask(4, 2, global_tokens=[4])


def test_bad_bigbird_args():
    with pytest.raises(ValueError, match="multiple of block"):
        bigbird_mask(10, 4)
    with pytest.raises(ValueError, match="window_blocks must be odd"):
        bigbird_layout(8, window_blocks=2)
    with pytest.raises(TypeError, match="layout must be bool"):
        block_layout_to_mask(torch.ones(2, 2), 2)


# ------------------------------------------------------------------------ StreamingLLM sinks + window
@settings(max_examples=20, deadline=None)
@given(n_q=st.integers(0, 9), n_k=st.integers(0, 9), window=st.integers(1, 5), n_sink=st.integers(0, 4),
       alignment=st.sampled_from(["upper_left", "lower_right"]))
def test_sink_window_matches_loop(n_q, n_k, window, n_sink, alignment):
    off = 0 if alignment == "upper_left" else n_k - n_q
    want = loop_mask(n_q, n_k, lambda i, j: j <= i + off and (j > i + off - window or j < n_sink))
    assert torch.equal(sink_window_mask(n_q, n_k, window, n_sink, alignment), want)


def test_sink_window_row_counts_and_reductions():
    n, window, n_sink = 12, 3, 4  # StreamingLLM keeps 4 sinks
    m = sink_window_mask(n, n, window, n_sink)
    assert m.sum(-1).tolist() == [min(i + 1, window + n_sink) for i in range(n)]
    assert m[11].nonzero().flatten().tolist() == [0, 1, 2, 3, 9, 10, 11]
    assert torch.equal(sink_window_mask(n, n, window, 0), sliding_window_mask(n, n, window))
    assert torch.equal(sink_window_mask(n, n, window, n), causal_mask(n, n))


# ------------------------------------------------------------------- Sparse Transformer (arXiv:1904.10509)
def _strided_sets(i, l):
    a1 = set(range(max(0, i - l), i + 1))  # A^(1)_i = {t, …, i}, t = max(0, i − l)
    a2 = {j for j in range(i + 1) if (i - j) % l == 0}  # A^(2)_i
    return a1, a2


def _fixed_sets(i, l, c):
    a1 = {j for j in range(i + 1) if j // l == i // l}  # same block
    a2 = {j for j in range(i + 1) if j % l in range(l - c, l)}  # j mod l ∈ {l − c, …, l − 1}
    return a1, a2


@pytest.mark.parametrize("n,stride", [(1, 1), (10, 1), (10, 3), (16, 4), (9, 9), (7, 12)])
def test_strided_mask_matches_the_paper_sets(n, stride):
    parts = {1: strided_mask(n, stride, part=1), 2: strided_mask(n, stride, part=2), None: strided_mask(n, stride)}
    for i in range(n):
        a1, a2 = _strided_sets(i, stride)
        for part, want in ((1, a1), (2, a2), (None, a1 | a2)):
            assert set(parts[part][i].nonzero().flatten().tolist()) == want, (i, part)
        assert int(parts[1][i].sum()) == min(i, stride) + 1
        assert int(parts[2][i].sum()) == i // stride + 1
        assert int(parts[None][i].sum()) == min(i, stride) + 1 + i // stride + 1 - 1 - (i >= stride)
    # two hops (A^(1) then A^(2)) reach every earlier position: the factorisation covers full causal attention
    reach = (parts[1].double() @ parts[2].double()) > 0
    assert torch.equal(reach, causal_mask(n, n))


@pytest.mark.parametrize("n,stride,c", [(1, 1, 1), (12, 4, 1), (12, 4, 2), (13, 4, 4), (10, 3, 2)])
def test_fixed_mask_matches_the_paper_sets(n, stride, c):
    parts = {p: fixed_mask(n, stride, c, part=p) for p in (1, 2, None)}
    for i in range(n):
        a1, a2 = _fixed_sets(i, stride, c)
        for part, want in ((1, a1), (2, a2), (None, a1 | a2)):
            assert set(parts[part][i].nonzero().flatten().tolist()) == want, (i, part)
        assert int(parts[1][i].sum()) == i % stride + 1
        assert int(parts[2][i].sum()) == c * (i // stride) + max(0, i % stride - (stride - c) + 1)
    # own block directly, earlier blocks through their summary cells: two hops reach all j ≤ i
    reach = parts[1] | ((parts[2].double() @ parts[1].double()) > 0)
    assert torch.equal(reach, causal_mask(n, n))


def test_sparse_transformer_density_is_about_sqrt_n():
    # stride √n: nnz grows like n√n (O(n√n), arXiv:1904.10509), so the kept fraction of causal halves per 4× n
    ratios = [int(strided_mask(n, s).sum()) / (n * (n + 1) / 2) for n, s in ((64, 8), (256, 16))]
    assert ratios[1] / ratios[0] == pytest.approx(0.5, abs=0.05)
    assert int(strided_mask(64, 8)[-1].sum()) == 2 * 8 - 1  # last row: 2√n − 1 keys


def test_sparse_mask_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"c must be <= stride \(4\).*got c=5"):
        fixed_mask(8, 4, 5)
    with pytest.raises(ValueError, match=r"part must be None .* got 3"):
        strided_mask(8, 2, part=3)
    with pytest.raises(ValueError, match=r"stride must be > 0, got 0"):
        strided_mask(8, 0)
    with pytest.raises(ValueError, match=r"n_sink must be >= 0, got -1"):
        sink_window_mask(4, 4, 2, -1)
