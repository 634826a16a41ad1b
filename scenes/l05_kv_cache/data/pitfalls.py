"""L05.5 Common pitfalls and solutions, each computed wrong vs right on the running model (float64): the
upper-left ``is_causal`` mask in a decode step and in chunked prefill; left padding with shared positions; the
sliding window off by one; a static cache that counts its length by non-zero rows; cached vs uncached logits in
float32 / bfloat16 against float64; functional SDPA's ``dropout_p`` in eval mode; a stale cache reused across
prompts; a decode position off by one; a static cache that overflows."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

import attn_ref as ar
from scenes.kit.data_builders import builder

from ._shared import MODEL, NEW_TOKENS, PROMPT, GEN_SEED, Vec, chunked_logits, full_logits, head_dim, max_abs, \
    model, to_tuple, tokens
from .generation import PADDED_NEW, PADDED_PROMPTS

SECOND_PROMPT: tuple[int, ...] = (40, 2, 11)
WINDOW = 3
WINDOW_N = 8
STATIC_MAX = 8
DROPOUT_P = 0.1


def _sequence() -> tuple[int, ...]:
    from .caching import generation_trace
    return generation_trace().tokens_cache


@dataclass(frozen=True)
class DecodeMask:
    """(1) is_causal=True on a one-token decode step: upper-left, the new token sees key 0 only;
    (2) chunked prefill with the upper-left mask."""
    decode_n_k: int
    wrong_row: Vec                   # layer 0, head 0 weights of the new token, upper-left
    right_row: Vec                   # lower-right (all keys)
    wrong_keys_seen: int             # 1
    decode_logit_diff: float         # wrong vs the full forward at the new position
    decode_right_diff: float
    chunk: tuple[int, int]           # (n_q, n_k) = (3, 7)
    chunk_logit_diff: tuple[float, ...]   # per chunk query: wrong vs full
    chunk_right_diff: float
    issues: tuple[str, ...]


def _weights_row(ids, chunks, alignment):
    m = model()
    caches = m.new_caches(1)
    trace = ar.Trace()
    start = 0
    for i, size in enumerate(chunks):
        past = len(caches[0])
        mask = ar.causal_mask(size, past + size, "upper_left")[None, None] if alignment == "upper_left" else None
        with torch.no_grad():
            m(tokens(ids[start:start + size]), caches=caches, attn_mask=mask,
              trace=trace if i == len(chunks) - 1 else None)
        start += size
    return trace.of_kind("mha.forward")[0]["weights"][0, 0, -1]


@builder("L05.5")
def decode_mask() -> DecodeMask:
    seq = _sequence()
    n = len(PROMPT) + 1
    full = full_logits(seq)
    wrong = _weights_row(seq[:n], (n - 1, 1), "upper_left")
    right = _weights_row(seq[:n], (n - 1, 1), "lower_right")
    w_dec = chunked_logits(seq[:n], (n - 1, 1), alignment="upper_left")[-1]
    r_dec = chunked_logits(seq[:n], (n - 1, 1))[-1]
    w_ch = chunked_logits(seq[:7], (4, 3), alignment="upper_left")[4:]
    r_ch = chunked_logits(seq[:7], (4, 3))[4:]
    return DecodeMask(n, to_tuple(wrong), to_tuple(right), int((wrong > 0).sum()), max_abs(w_dec, full[n - 1]),
                      max_abs(r_dec, full[n - 1]), (3, 7),
                      tuple(float(x) for x in (w_ch - full[4:7]).abs().amax(-1)), max_abs(r_ch, full[4:7]),
                      ("pytorch/pytorch#103082", "pytorch/pytorch#144858"))


@dataclass(frozen=True)
class PaddingPositions:
    """(3) Left padding. Right: positions cumsum(mask) − 1 at prefill, then + 1 per step. Wrong ("mixed"): the
    prefill from the mask but decode steps at the shared cache position len(cache), so the short row jumps by
    its padding. Shared positions everywhere (arange at prefill, len(cache) after) only shift a row's positions
    by a constant: RoPE scores depend on differences, so that variant is harmless here (not for absolute
    positions, as in GPT-2's learned table of #18104)."""
    prompts: tuple[tuple[int, ...], ...]
    mask_positions: tuple[tuple[int, ...], ...]
    decode_positions_right: tuple[tuple[int, ...], ...]    # per step, per row
    decode_positions_mixed: tuple[tuple[int, ...], ...]
    alone: tuple[int, ...]              # the short prompt generated on its own (greedy)
    right: tuple[int, ...]              # in the padded batch, positions from the mask
    mixed: tuple[int, ...]              # prefill from the mask, decode at len(cache)
    shared: tuple[int, ...]             # arange at prefill, len(cache) after: a constant shift
    right_logit_diff: float             # short row vs alone, every step
    mixed_logit_diff: float
    shared_logit_diff: float            # ≈ 0: RoPE is relative
    mixed_tokens_differ: bool           # greedy tokens differ from the unpadded run (the logits do either way)
    issues: tuple[str, ...]


@torch.no_grad()
def _greedy_batch(prompts, new: int, mode: str):
    """Greedy generation of a left-padded batch through the cache. mode: "mask" (right), "mixed", "shared"."""
    m = model()
    n = max(map(len, prompts))
    toks = torch.tensor([[0] * (n - len(p)) + list(p) for p in prompts])
    mask = ar.padding_mask([len(p) for p in prompts], n, side="left")
    caches = m.new_caches(len(prompts))
    pos = torch.arange(n).expand(len(prompts), n) if mode == "shared" else ar.positions_from_mask(mask)
    out, logits_all, used, step = [[] for _ in prompts], [], [], toks
    for _ in range(new):
        logits = m(step, caches=caches, positions=pos, attn_mask=mask)[:, -1]
        logits_all.append(logits)
        nxt = logits.argmax(-1)
        for b in range(len(prompts)):
            out[b].append(int(nxt[b]))
        mask = torch.cat([mask, torch.ones(len(prompts), 1, dtype=torch.bool)], 1)
        pos = pos[:, -1:] + 1 if mode == "mask" else torch.full((len(prompts), 1), len(caches[0]))
        used.append(tuple(pos[:, 0].tolist()))
        step = nxt[:, None]
    return out, logits_all, tuple(used[:-1])


@builder("L05.5")
def padding_positions() -> PaddingPositions:
    short = PADDED_PROMPTS[1]
    alone_t = ar.Trace()
    alone = ar.generate(model(), tokens(short), PADDED_NEW, temperature=0, trace=alone_t)[0, len(short):].tolist()
    runs = {mode: _greedy_batch(PADDED_PROMPTS, PADDED_NEW, mode) for mode in ("mask", "mixed", "shared")}
    diff = {mode: max(max_abs(lg[1], a["logits"][0]) for lg, a in zip(r[1], alone_t)) for mode, r in runs.items()}
    n = max(map(len, PADDED_PROMPTS))
    mask = ar.padding_mask([len(p) for p in PADDED_PROMPTS], n, side="left")
    return PaddingPositions(
        PADDED_PROMPTS, tuple(tuple(r) for r in ar.positions_from_mask(mask).tolist()), runs["mask"][2],
        runs["mixed"][2], tuple(alone), tuple(runs["mask"][0][1]), tuple(runs["mixed"][0][1]),
        tuple(runs["shared"][0][1]), diff["mask"], diff["mixed"], diff["shared"], runs["mixed"][0][1] != alone,
        ("unslothai/unsloth#3795", "huggingface/transformers#18104"))


@dataclass(frozen=True)
class WindowOffByOne:
    """(4) A window of W keys: p − W < j ≤ p; the off-by-one keeps p − W ≤ j ≤ p (W + 1 keys)."""
    window: int
    n: int
    right_keys: tuple[int, ...]         # keys per query row
    wrong_keys: tuple[int, ...]
    logit_diff: float                   # wrong vs right mask through the model (max over positions)
    flash_attn_window_size: tuple[int, int]   # flash-attn's (left, right) for W keys: (W − 1, 0)
    issue: str


@builder("L05.5")
def window_off_by_one() -> WindowOffByOne:
    seq = _sequence()
    n = WINDOW_N
    right = ar.sliding_window_mask(n, n, WINDOW)
    i, j = torch.arange(n)[:, None], torch.arange(n)[None, :]
    wrong = (j <= i) & (j >= i - WINDOW)
    lr = full_logits(seq[:n], attn_mask=right[None, None])
    lw = full_logits(seq[:n], attn_mask=wrong[None, None])
    return WindowOffByOne(WINDOW, n, tuple(right.sum(-1).tolist()), tuple(wrong.sum(-1).tolist()), max_abs(lr, lw),
                          (WINDOW - 1, 0), "huggingface/transformers#29623")


@dataclass(frozen=True)
class StaticLength:
    """(5) A static cache that counts its length by non-zero key rows (HF StaticCache.get_seq_length)."""
    written: int                        # real tokens written
    zero_row_position: int              # a real token whose key row is exactly 0
    true_length: int                    # len(cache)
    heuristic_length: int               # slots with keys[0, 0].any(-1)
    overwritten_position: int           # the next write goes to slot heuristic_length: a real token is lost
    issue: str


@builder("L05.5")
def static_length() -> StaticLength:
    hd = head_dim()
    c = ar.KVCache(1, 1, hd, max_len=STATIC_MAX, dtype=torch.float64)
    g = torch.Generator().manual_seed(54)
    k = torch.randn(1, 1, 5, hd, generator=g, dtype=torch.float64)
    k[0, 0, 2] = 0.0                    # e.g. a token whose (bias-free) key projection is 0
    c.update(k, k)
    heur = int(c._k[0, 0].any(-1).sum())
    return StaticLength(5, 2, len(c), heur, heur, "huggingface/transformers#30377")


@dataclass(frozen=True)
class Precision:
    """(6) Cached and uncached decoding sum in different orders: equal tokens, logits equal to rounding only."""
    dtypes: tuple[str, ...]
    max_logit_diff: tuple[float, ...]   # |cached − uncached| over the generated steps, per dtype
    tokens_equal: tuple[bool, ...]
    eps: tuple[float, ...]              # machine epsilon of each dtype
    float64_tokens: tuple[int, ...]


@builder("L05.5")
def precision() -> Precision:
    names, diffs, eq, eps = [], [], [], []
    f64_tokens: tuple[int, ...] = ()
    for dt in (torch.float64, torch.float32, torch.bfloat16):
        m = ar.TinyDecoder(ar.DecoderConfig(**MODEL)).to(dt).eval()
        ta, tb = ar.Trace(), ar.Trace()
        a = ar.generate(m, tokens(PROMPT), NEW_TOKENS, use_cache=False, seed=GEN_SEED, trace=ta)
        b = ar.generate(m, tokens(PROMPT), NEW_TOKENS, use_cache=True, seed=GEN_SEED, trace=tb)
        names.append(str(dt).removeprefix("torch."))
        diffs.append(max(max_abs(x["logits"].double(), y["logits"].double()) for x, y in zip(ta, tb)))
        eq.append(bool(torch.equal(a, b)))
        eps.append(float(torch.finfo(dt).eps))
        if dt == torch.float64:
            f64_tokens = tuple(a[0].tolist())
    return Precision(tuple(names), tuple(diffs), tuple(eq), tuple(eps), f64_tokens)


@dataclass(frozen=True)
class Dropout:
    """(7) ``F.scaled_dot_product_attention(..., dropout_p=p)`` inside a module in eval mode still drops."""
    module_training: bool               # False: .eval() was called
    dropout_p: float
    wrong_call_diff: float              # two eval-mode calls with dropout_p = 0.1 differ
    right_call_diff: float              # dropout_p = p if self.training else 0: identical
    right_vs_reference: float           # and equal to ar.sdpa


class _Attn(torch.nn.Module):
    def __init__(self, fixed: bool):
        super().__init__()
        self.fixed = fixed

    def forward(self, q, k, v):
        p = (DROPOUT_P if self.training else 0.0) if self.fixed else DROPOUT_P
        return F.scaled_dot_product_attention(q, k, v, dropout_p=p)


@builder("L05.5")
def dropout() -> Dropout:
    g = torch.Generator().manual_seed(55)
    q, k, v = (torch.randn(1, 2, 4, 8, generator=g, dtype=torch.float64) for _ in range(3))
    wrong, right = _Attn(False).eval(), _Attn(True).eval()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        w1, w2, r1, r2 = wrong(q, k, v), wrong(q, k, v), right(q, k, v), right(q, k, v)
    return Dropout(wrong.training, DROPOUT_P, max_abs(w1, w2), max_abs(r1, r2), max_abs(r1, ar.sdpa(q, k, v)))


@dataclass(frozen=True)
class StaleCache:
    """A cache filled by one prompt, reused for the next without reset."""
    first_prompt: tuple[int, ...]
    second_prompt: tuple[int, ...]
    stale_cache_len: int                # tokens in the cache when the second prompt arrives
    stale_logit_diff: float             # second prompt's last logits vs a fresh run
    reset_logit_diff: float             # after cache.reset(): equal
    stale_next: int
    fresh_next: int


@builder("L05.5")
def stale_cache() -> StaleCache:
    m = model()
    caches = m.new_caches(1)
    with torch.no_grad():
        m(tokens(PROMPT), caches=caches)
        stale_len = len(caches[0])
        stale = m(tokens(SECOND_PROMPT), caches=caches)[0, -1]
        for c in caches:
            c.reset()
        reset = m(tokens(SECOND_PROMPT), caches=caches)[0, -1]
    fresh = full_logits(SECOND_PROMPT)[-1]
    return StaleCache(PROMPT, SECOND_PROMPT, stale_len, max_abs(stale, fresh), max_abs(reset, fresh),
                      int(stale.argmax()), int(fresh.argmax()))


@dataclass(frozen=True)
class PositionOffByOne:
    """The decode token's RoPE position must be len(cache) (the number of tokens before it)."""
    right_position: int
    offsets: tuple[int, ...]            # −1, 0, +1
    logit_diff: tuple[float, ...]       # vs the full forward, per offset
    greedy_changed: tuple[bool, ...]


@builder("L05.5")
def position_off_by_one() -> PositionOffByOne:
    seq = _sequence()
    n = len(PROMPT)
    full = full_logits(seq[:n + 1])[-1]
    m = model()
    diffs, changed = [], []
    for off in (-1, 0, 1):
        caches = m.new_caches(1)
        with torch.no_grad():
            m(tokens(seq[:n]), caches=caches)
            got = m(tokens(seq[n:n + 1]), caches=caches, positions=torch.tensor([n + off]))[0, -1]
        diffs.append(max_abs(got, full))
        changed.append(int(got.argmax()) != int(full.argmax()))
    return PositionOffByOne(n, (-1, 0, 1), tuple(diffs), tuple(changed))


@dataclass(frozen=True)
class StaticOverflow:
    max_len: int
    held: int
    error: str                          # ar.KVCache's message when one more token arrives
    dynamic_len_after: int              # a dynamic cache just grows
    generate_error: str                 # ar.generate refuses prompt + new > max_len up front


@builder("L05.5")
def static_overflow() -> StaticOverflow:
    x = torch.zeros(1, 1, STATIC_MAX, 2)
    one = torch.zeros(1, 1, 1, 2)
    c, d = ar.KVCache(1, 1, 2, max_len=STATIC_MAX), ar.KVCache(1, 1, 2)
    c.update(x, x)
    d.update(x, x)
    d.update(one, one)
    try:
        c.update(one, one)
        err = ""
    except ValueError as e:
        err = str(e)
    try:
        ar.generate(model(), tokens(PROMPT), MODEL["max_len"], temperature=0)
        gen_err = ""
    except ValueError as e:
        gen_err = str(e)
    return StaticOverflow(STATIC_MAX, len(c), err, len(d), gen_err)
