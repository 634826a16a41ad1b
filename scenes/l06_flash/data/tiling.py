"""L06.2 Tiling strategies. One row first: the online softmax over key blocks (running max m, running sum ℓ
rescaled by e^{m_old − m_new} whenever the max grows; the result equals ``ar.softmax``). Then the 2-D grid
of the running example (N = 16, blocks of 4: 4 × 4 tiles) from the trace of ``ar.flash_attention``
(version 2): per step the tile's scores, (m, ℓ) for its rows, the partial Õ rows and Õ/ℓ; after the last
K/V block Õ/ℓ equals ``ar.sdpa``. Causal: which tiles are skipped, masked (diagonal) or full. The paper's
block sizes (B_c = ⌈M/4d⌉, B_r = min(⌈M/4d⌉, d)) for real SRAM sizes; N = 18 with a partial last tile."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

import attn_ref as ar
from scenes.kit.data_builders import builder
from scenes.kit.references import DAO_2022, DAO_2023_FLASH2, MILAKOV

from ._shared import BLOCK, D, N, Mat, Vec, gaussian, max_abs, qkv, run, to_tuple

ROW = 4
"""The query row of the one-row trace (its running max holds at block 1, grows at blocks 2 and 3)."""
RAGGED_N, RAGGED_SEED = 18, 62


@dataclass(frozen=True)
class RowStep:
    block: int
    cols: tuple[int, int]
    scores: Vec                       # the block's scaled scores s_j = q·k_j/√d
    block_max: float
    m_old: float                      # -inf before the first block
    m_new: float
    grew: bool                        # m_new > m_old: the old sum is rescaled
    rescale: float                    # e^{m_old − m_new} (0 at the first block)
    block_sum: float                  # Σ e^{s_j − m_new} over the block
    l_old: float
    l_new: float                      # e^{m_old − m_new} ℓ_old + block_sum


@dataclass(frozen=True)
class OnlineSoftmaxRow:
    row: int
    block: int
    scores: Vec                       # the whole row (16 keys)
    steps: tuple[RowStep, ...]
    m: float                          # final running max = max of the row
    l: float                          # final running sum = Σ e^{s_j − m}
    weights: Vec                      # e^{s_j − m}/ℓ
    softmax: Vec                      # ar.softmax of the row
    max_diff: float
    rescalings: int                   # blocks after the first at which the max grew
    source: str


@builder("L06.2")
def online_softmax_row() -> OnlineSoftmaxRow:
    """Query row ``ROW`` of the running example against 16 keys in 4 blocks: the trace of ``flash_attention``
    run on that one row (block_q = 1), then the weights e^{s − m}/ℓ against ``ar.softmax``."""
    q, k, v = qkv()
    qr = q[..., ROW:ROW + 1, :]
    _, _, steps, _ = run(qr, k, v, block_q=1)
    scores = (qr @ k.transpose(-1, -2))[0, 0, 0] / math.sqrt(D)
    out, m_old, l_old = [], float("-inf"), 0.0
    for st in steps:
        c0, c1 = st["cols"]
        m_new, l_new = float(st["m"].flatten()[0]), float(st["l"].flatten()[0])
        resc = math.exp(m_old - m_new)
        out.append(RowStep(st.index[1], (c0, c1), to_tuple(scores[c0:c1]), float(scores[c0:c1].max()), m_old,
                           m_new, m_new > m_old, resc, float(st["P"].sum()), l_old, l_new))
        m_old, l_old = m_new, l_new
    w = torch.exp(scores - m_old) / l_old
    sm = ar.softmax(scores)
    return OnlineSoftmaxRow(ROW, BLOCK, to_tuple(scores), tuple(out), m_old, l_old, to_tuple(w), to_tuple(sm),
                            max_abs(w, sm), sum(s.grew for s in out[1:]), MILAKOV.short())


@dataclass(frozen=True)
class TileStep:
    i: int                            # Q block (outer loop in FA-2)
    j: int                            # K/V block (inner loop)
    rows: tuple[int, int]
    cols: tuple[int, int]
    scores: Mat                       # S_ij = Q_i K_jᵀ/√d (4 × 4)
    m: Vec                            # running max of the block's rows after the step
    l: Vec                            # running sum
    rescale: Vec                      # e^{m_old − m_new} applied to ℓ and Õ at this step (0 at j = 0)
    partial: Mat                      # Õ (unnormalised accumulator, rows × d)
    normalised: Mat                   # Õ/ℓ: what the output would be if the keys ended here
    last: bool                        # after the last K/V block: normalised is the output
    to_out: float                     # max |Õ/ℓ − O| over the block's rows: how far the partial output still is


@dataclass(frozen=True)
class TileTrace:
    n: int
    d: int
    block_q: int
    block_k: int
    grid: tuple[int, int]             # (T_r, T_c)
    q: Mat
    k: Mat
    v: Mat
    steps: tuple[TileStep, ...]
    out: Mat                          # flash_attention's O
    sdpa: Mat                         # ar.sdpa
    max_diff: float                   # |O − sdpa|
    lse: Vec                          # return_lse: m + log ℓ
    lse_torch: Vec                    # torch.logsumexp of the scaled scores
    lse_diff: float
    source: str


@builder("L06.2")
def tile_trace() -> TileTrace:
    """The centrepiece grid: every ``flash.step`` of ``ar.flash_attention(version=2)`` on the running example."""
    q, k, v = qkv()
    out, lse, steps, _ = run(q, k, v)
    ts, prev_m = [], None
    for st in steps:
        r0, r1 = st["rows"]
        i, j = st.index
        m, ell, acc = st["m"][0, 0], st["l"][0, 0], st["O"][0, 0]
        resc = torch.zeros_like(m) if j == 0 else torch.exp(prev_m - m)
        ts.append(TileStep(i, j, st["rows"], st["cols"], to_tuple(st["S"][0, 0]), to_tuple(m), to_tuple(ell),
                           to_tuple(resc), to_tuple(acc), to_tuple(acc / ell[:, None]), j == N // BLOCK - 1,
                           max_abs(acc / ell[:, None], out[0, 0, r0:r1])))
        prev_m = m
    ref = ar.sdpa(q, k, v)
    lse_t = torch.logsumexp((q @ k.transpose(-1, -2)) / math.sqrt(D), dim=-1)
    return TileTrace(N, D, BLOCK, BLOCK, (N // BLOCK, N // BLOCK), to_tuple(q[0, 0]), to_tuple(k[0, 0]),
                     to_tuple(v[0, 0]), tuple(ts), to_tuple(out[0, 0]), to_tuple(ref[0, 0]), max_abs(out, ref),
                     to_tuple(lse[0, 0]), to_tuple(lse_t[0, 0]), max_abs(lse, lse_t),
                     f"{DAO_2023_FLASH2.short()}, Algorithm 1 (attn_ref.flash_attention, version=2): Õ/ℓ once "
                     "at the end")


@dataclass(frozen=True)
class CausalTiles:
    grid: tuple[int, int]
    status: tuple[tuple[str, ...], ...]   # per tile: "skipped" (above the diagonal), "masked" (diagonal), "full"
    order: tuple[tuple[int, int], ...]    # the tiles computed, in trace order
    computed: int
    skipped: int
    masked: int
    full: int
    masked_entries: tuple[int, ...]       # -inf entries in each masked tile, in trace order
    out_diff: float                       # |O − ar.sdpa(is_causal=True)|
    kv_reads_saved: int                   # elements of K/V not read (trace_io, non-causal − causal)


@builder("L06.2")
def causal_tiles() -> CausalTiles:
    """Causal trace of the running example: tiles above the diagonal never loaded, diagonal tiles masked."""
    q, k, v = qkv()
    out, _, steps, _ = run(q, k, v, causal=True)
    t = N // BLOCK
    status = [["skipped"] * t for _ in range(t)]
    masked_entries = []
    for st in steps:
        i, j = st.index
        ninf = int(torch.isneginf(st["S"]).sum())
        status[i][j] = "masked" if ninf else "full"
        if ninf:
            masked_entries.append(ninf)
    flat = [s for row in status for s in row]
    full_trace, causal_trace = ar.Trace(), ar.Trace()
    ar.flash_attention(q, k, v, block_q=BLOCK, block_k=BLOCK, trace=full_trace)
    ar.flash_attention(q, k, v, block_q=BLOCK, block_k=BLOCK, causal=True, trace=causal_trace)
    saved = ar.trace_io(full_trace, D, 2)["reads_total"] - ar.trace_io(causal_trace, D, 2)["reads_total"]
    return CausalTiles((t, t), tuple(tuple(r) for r in status), tuple(tuple(s.index) for s in steps), len(steps),
                       flat.count("skipped"), flat.count("masked"), flat.count("full"), tuple(masked_entries),
                       max_abs(out, ar.sdpa(q, k, v, is_causal=True)), saved)


@dataclass(frozen=True)
class BlockSize:
    device: str
    sram_bytes: int                   # per SM (shared memory a block may use)
    bytes_per_elem: int
    m_elems: int                      # M
    d: int
    b_c: int                          # ⌈M/4d⌉
    b_r: int                          # min(⌈M/4d⌉, d)
    io_block_c: int                   # attention_io(version=1)'s choice (same formula)
    io_block_r: int
    tiles_bytes: int                  # 4 tiles of (B_c, d) ≤ M elements (the paper's budget)


@dataclass(frozen=True)
class BlockSizes:
    rows: tuple[BlockSize, ...]
    formula: str
    note: str
    source: str


SRAM_EXAMPLES: tuple[tuple[str, int], ...] = (("A100 (192 KB per SM)", 192 * 1024),
                                              ("H100 (228 KB per SM)", 228 * 1024))


@builder("L06.2")
def block_sizes() -> BlockSizes:
    """E6.5 for the per-SM shared memory of an A100 and an H100, fp16, d = 64 and 128."""
    rows = []
    for name, sram in SRAM_EXAMPLES:
        for d in (64, 128):
            mem = sram // 2
            bc = -(-mem // (4 * d))
            br = min(bc, d)
            _, info = ar.attention_io(4096, d, sram, method="flash", version=1, breakdown=True)
            rows.append(BlockSize(name, sram, 2, mem, d, bc, br, info["block_c"], info["block_r"], 4 * bc * d * 2))
    return BlockSizes(tuple(rows), "B_c = ⌈M/4d⌉, B_r = min(⌈M/4d⌉, d)",
                      "the paper's sizes, so that Q_i, K_j, V_j, O_i fit in M; real kernels pick powers of two "
                      "(e.g. 128 × 64) tuned per GPU; the 20 MB / 50 MB figures are summed over all SMs, a block "
                      "sees one SM's share", f"{DAO_2022.short()}, Algorithm 1 line 1")


@dataclass(frozen=True)
class RaggedTiles:
    n: int
    block: int
    row_blocks: tuple[tuple[int, int], ...]
    col_blocks: tuple[tuple[int, int], ...]
    last_tile_shape: tuple[int, int]  # the (rows, cols) of the bottom-right tile
    steps: int
    max_diff: float                   # |O − ar.sdpa|


@builder("L06.2")
def ragged_tiles() -> RaggedTiles:
    """N = 18 with blocks of 4: the last row and column blocks hold 2 tokens; the output is still exact."""
    g = gaussian((3, RAGGED_N, D), RAGGED_SEED)
    q, k, v = g[0][None, None], g[1][None, None], g[2][None, None]
    out, _, steps, _ = run(q, k, v)
    rb = tuple(dict.fromkeys(tuple(s["rows"]) for s in steps))
    cb = tuple(dict.fromkeys(tuple(s["cols"]) for s in steps))
    last = steps[-1]["S"].shape[-2:]
    return RaggedTiles(RAGGED_N, BLOCK, rb, cb, (int(last[0]), int(last[1])), len(steps),
                       max_abs(out, ar.sdpa(q, k, v)))
