"""Long context (Lecture 4, E4.1–E4.8): the bytes of a materialised score tensor, the attention FLOPs and
the causal count, the length at which attention costs as much as the rest of the layer, the KV-cache bytes,
the arithmetic intensity of prefill and decode, the roofline bound, perplexity and the per-position loss,
and softmax dilution (the logit margin a needle needs grows like ln N).

Checks are numeric against ``attn_ref`` (``score_matrix_bytes``, ``attention_flops``, ``layer_flops``,
``attention_mlp_crossover``, ``kv_cache_bytes``, ``roofline``, ``softmax``, ``needle_weight``) and independent
oracles (a tensor's ``numel · element_size``, ``torch.nn.CrossEntropyLoss``), and symbolic with sympy where
the lecture derives a result (the causal sum, the crossover, the intensities, the margin).
"""
from __future__ import annotations

import math

import sympy as sp
import torch

from scenes.kit.references import DAO_2022, KAPLAN, POPE, VASWANI

from .checks import close, identity, randn, rng
from .registry import Clause, EquationError, register

# --- symbols ------------------------------------------------------------------------------------------------
b = sp.Symbol("b", integer=True, positive=True)                      # batch
h = sp.Symbol("h", integer=True, positive=True)                      # heads
n = sp.Symbol("n", integer=True, positive=True)                      # sequence length
n_q, n_k = sp.symbols("n_q n_k", integer=True, positive=True)
d = sp.Symbol("d", integer=True, positive=True)                      # head width (E4.2, E4.5) / H·d_h (E4.3)
beta_elem = sp.Symbol(r"\beta_{\mathrm{elem}}", integer=True, positive=True)
bytes_S = sp.Symbol(r"\mathrm{bytes}(S)", positive=True)
flops = sp.Symbol(r"\mathrm{FLOPs}", positive=True)
flops_c = sp.Symbol(r"\mathrm{FLOPs}_{\mathrm{causal}}", positive=True)
i_idx = sp.Symbol("i", integer=True, positive=True)
P_layer = sp.Symbol(r"P_{\mathrm{layer}}", positive=True)
n_star = sp.Symbol(r"n^{\ast}", positive=True)
L = sp.Symbol("L", integer=True, positive=True)                      # layers (E4.4) / context (E4.5)
H_kv = sp.Symbol(r"H_{kv}", integer=True, positive=True)
d_h = sp.Symbol("d_h", integer=True, positive=True)
KV = sp.Symbol(r"\mathrm{KV}", positive=True)
g = sp.Symbol("g", integer=True, positive=True)                      # query heads per KV head
AI_p = sp.Symbol(r"\mathrm{AI}_{\mathrm{prefill}}", positive=True)
AI_d = sp.Symbol(r"\mathrm{AI}_{\mathrm{decode}}", positive=True)
t_time = sp.Symbol("t", positive=True)
F_sym = sp.Symbol("F", positive=True)                                # FLOPs of a kernel
Q_sym = sp.Symbol("Q", positive=True)                                # bytes it moves
peak = sp.Symbol(r"\pi", positive=True)                              # peak FLOP/s
bw = sp.Symbol(r"\beta", positive=True)                              # bandwidth, B/s
ridge = sp.Symbol(r"\mathrm{ridge}", positive=True)
PPL = sp.Symbol(r"\mathrm{PPL}", positive=True)
T = sp.Symbol("T", integer=True, positive=True)
t_idx = sp.Symbol("t", integer=True, positive=True)
D_docs = sp.Symbol("D", integer=True, positive=True)
k_doc = sp.Symbol("k", integer=True, positive=True)
p_tok = sp.IndexedBase("p")                                          # p_t = p(x_t | x_<t)
ell = sp.IndexedBase(r"\ell")
p_w = sp.Symbol("p", positive=True)
Delta = sp.Symbol(r"\Delta", real=True)
N = sp.Symbol("N", integer=True, positive=True)


def _mul(*factors):
    return sp.Mul(*factors, evaluate=False)


def _frac(num, den):
    return sp.Mul(num, sp.Pow(den, -1, evaluate=False), evaluate=False)


# --- E4.1 bytes(S) = b h n² β_elem -----------------------------------------------------------------------------
def _claim_score_bytes(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    gen = rng(401)
    for bb, hh, nn, dtype in ((1, 2, 5, torch.float16), (2, 3, 7, torch.float32), (1, 1, 4, torch.float64)):
        q, k = randn(gen, bb, hh, nn, 4).to(dtype), randn(gen, bb, hh, nn, 4).to(dtype)
        s = q @ k.transpose(-1, -2)                                  # the tensor a naive kernel materialises
        elem = s.element_size()
        got = cl.rhs.xreplace({b: bb, h: hh, n: nn, beta_elem: elem})
        if got != s.numel() * elem or got != ar.score_matrix_bytes(bb, hh, nn, nn, elem):
            raise EquationError(f"{eq.name}: ({bb}, {hh}, {nn}) β={elem}: {got} vs tensor {s.numel() * elem}")
    if cl.rhs.xreplace({b: 1, h: 32, n: 16384, beta_elem: 2}) != 16 * 2 ** 30:
        raise EquationError(f"{eq.name}: (1, 32, 16K) in fp16 is not 16 GiB")


register(
    "score_bytes",
    [Clause(bytes_S, _mul(b, h, n ** 2, beta_elem))],
    _claim_score_bytes,
    "A materialised score tensor holds b·h·n² numbers: 16 GiB per layer for (1, 32, 16K) in fp16.",
    DAO_2022, where="Algorithm 0 (standard attention writes S and P, N × N, to HBM)",
)


# --- E4.2 FLOPs = 4 b h n_q n_k d (½ causal); Σ i = n(n+1)/2 ---------------------------------------------------
def _claim_flops_causal(eq):
    import attn_ref as ar

    full, causal, tri = eq.clauses
    for bb, hh, nq, nk, dd in ((1, 1, 8, 8, 4), (2, 3, 16, 16, 64), (1, 32, 4096, 4096, 128), (4, 2, 1, 512, 64)):
        got = full.rhs.xreplace({b: bb, h: hh, n_q: nq, n_k: nk, d: dd})
        if got != ar.attention_flops(bb, hh, nq, nk, dd):
            raise EquationError(f"{eq.name}: {got} vs attn_ref {ar.attention_flops(bb, hh, nq, nk, dd)}")
    for bb, hh, nn, dd in ((1, 1, 8, 4), (2, 3, 16, 64), (1, 32, 4096, 128)):
        got = causal.rhs.xreplace({b: bb, h: hh, n: nn, d: dd})
        if got != ar.attention_flops(bb, hh, nn, nn, dd, causal=True):
            raise EquationError(f"{eq.name}: causal {got} vs attn_ref")
    identity(eq, tri.lhs.doit(), tri.rhs)
    for nn in (1, 5, 8, 128):   # the sum counts the kept cells of the causal mask
        if int(ar.causal_mask(nn, nn).sum()) != tri.rhs.xreplace({n: nn}):
            raise EquationError(f"{eq.name}: Σ i ≠ kept cells at n = {nn}")
    # the convention's n²/2 undercounts the exact n(n+1)/2 by a relative 1/n
    identity(eq, (tri.rhs - n ** 2 / 2) / (n ** 2 / 2), 1 / n)


register(
    "attention_flops_causal",
    [Clause(flops, _mul(4, b, h, n_q, n_k, d)),
     Clause(flops_c, _mul(sp.Rational(1, 2), 4, b, h, n ** 2, d)),
     Clause(sp.Sum(i_idx, (i_idx, 1, n)), _frac(_mul(n, sp.Add(n, 1, evaluate=False)), 2))],
    _claim_flops_causal,
    "QKᵀ and PV cost 2·n_q·n_k·d each per head; a causal mask keeps n(n+1)/2 of n² pairs, counted as half.",
    DAO_2022, where="FLOP convention of the FlashAttention benchmarks (4·b·h·n²·d, halved when causal)",
)


# --- E4.3 2 P_layer = 4 n* d ⇒ n* = P_layer / (2d); P_layer = 12 d² ⇒ n* = 6d -------------------------------------
def _claim_crossover(eq):
    import attn_ref as ar

    balance, solved, rule = eq.clauses
    sol = sp.solve(sp.Eq(balance.lhs, balance.rhs), n_star)
    if len(sol) != 1:
        raise EquationError(f"{eq.name}: {sol}")
    identity(eq, sol[0], solved.rhs)
    identity(eq, solved.rhs.xreplace({P_layer: rule.lhs.rhs}), rule.rhs.rhs)
    m = ar.LLAMA2_7B
    p = m.layer_flops(1)["dense"] // 2
    if p != 202_375_168:
        raise EquationError(f"{eq.name}: Llama-2-7B P_layer = {p}")
    dd = m.n_heads * m.head_dim
    for model in (ar.LLAMA2_7B, ar.LLAMA3_8B, ar.MISTRAL_7B, ar.GPT2_SMALL):
        pl = model.layer_flops(1)["dense"] // 2
        width = model.n_heads * model.head_dim
        close(eq.name, solved.rhs.xreplace({P_layer: pl, d: width}), model.attention_mlp_crossover(), 1e-12)
        close(eq.name, 2 * solved.rhs.xreplace({P_layer: pl, d: width}), model.attention_mlp_crossover(causal=True),
              1e-12)
    if solved.rhs.xreplace({P_layer: p, d: dd}) != 24_704:
        raise EquationError(f"{eq.name}: Llama-2-7B crossover is not 24,704")
    got = ar.attention_mlp_crossover(768, 12, mlp="gelu")        # d_ff = 4d: P_layer = 4d² + 8d² = 12 d²
    close(eq.name, got, rule.rhs.rhs.xreplace({d: 768}), 1e-12)
    close(eq.name, ar.attention_mlp_crossover(768, 12, mlp="gelu", causal=True), 2 * got, 1e-12)   # 12 d causal


register(
    "attention_mlp_crossover",
    [Clause(_mul(2, P_layer), _mul(4, n_star, d)),
     Clause(n_star, _frac(P_layer, _mul(2, d))),
     Clause(sp.Eq(P_layer, _mul(12, d ** 2), evaluate=False), sp.Eq(n_star, _mul(6, d), evaluate=False),
            r"\Rightarrow")],
    _claim_crossover,
    "Per token the dense part costs 2·P_layer and attention 4·n·d: equal at n* = P_layer/(2d) (24,704 for "
    "Llama-2-7B; twice that causal), 6d for a GPT-style layer of 12d² parameters.",
    KAPLAN, where="§2.1, Table 1 (forward FLOPs per token 2N plus a term in n_ctx, negligible for d_model ≫ "
                  "n_ctx/12: the causal form, n* = 12d); solved here",
)


# --- E4.4 KV = 2 · L · H_kv · d_h · n · b · β_elem -------------------------------------------------------------
def _claim_kv(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    for layers, hkv, hd, nn, bb, elem in ((1, 1, 4, 3, 1, 2), (2, 3, 8, 5, 2, 4), (32, 32, 128, 4096, 1, 2),
                                          (80, 8, 128, 1, 4, 2)):
        got = cl.rhs.xreplace({L: layers, H_kv: hkv, d_h: hd, n: nn, b: bb, beta_elem: elem})
        if got != ar.kv_cache_bytes(layers, hkv, hd, nn, bb, elem):
            raise EquationError(f"{eq.name}: {got} vs attn_ref {ar.kv_cache_bytes(layers, hkv, hd, nn, bb, elem)}")
    for layers, hkv, hd, nn, bb, dtype in ((2, 3, 4, 5, 2, torch.float16), (1, 2, 8, 3, 1, torch.float32)):
        cache = [torch.empty(bb, hkv, nn, hd, dtype=dtype) for _ in range(2 * layers)]   # K and V per layer
        elem = cache[0].element_size()
        want = sum(t.numel() * t.element_size() for t in cache)
        if cl.rhs.xreplace({L: layers, H_kv: hkv, d_h: hd, n: nn, b: bb, beta_elem: elem}) != want:
            raise EquationError(f"{eq.name}: not the bytes of the cached tensors")
    for model, per_token in ((ar.LLAMA2_7B, 524_288), (ar.MISTRAL_7B, 131_072), (ar.LLAMA2_70B, 327_680)):
        got = cl.rhs.xreplace({L: model.n_layers, H_kv: model.n_kv_heads, d_h: model.head_dim, n: 1, b: 1,
                               beta_elem: 2})
        if got != per_token or got != model.kv_bytes_per_token():
            raise EquationError(f"{eq.name}: {model.name} per token {got}, want {per_token}")


register(
    "kv_cache_bytes",
    [Clause(KV, _mul(2, L, H_kv, d_h, n, b, beta_elem))],
    _claim_kv,
    "K and V for every layer, KV head, position and sequence: linear in n, but multiplied by L·H_kv·b "
    "(Llama-2-7B: 512 KiB per token in fp16).",
    POPE, where="§2 (memory costs: the KV cache of L layers); counted here per element",
)


# --- E4.5 AI_prefill = 4n²d / (2·4nd) = n/2, AI_decode = 4Ldg / (2·2Ld) = g -----------------------------------------
def _claim_intensity(eq):
    import attn_ref as ar

    pre, dec = eq.clauses
    identity(eq, pre.lhs.rhs.doit(), pre.rhs)
    identity(eq, dec.lhs.rhs.doit(), dec.rhs)
    for nn, dd in ((1024, 128), (16384, 128), (4096, 64)):
        f = ar.attention_flops(1, 1, nn, nn, dd)
        q = 2 * 4 * nn * dd                                              # Q, K, V, O once, 2 bytes each
        got = ar.arithmetic_intensity(f, q)
        close(eq.name, got, pre.lhs.rhs.xreplace({n: nn, d: dd}), 1e-12)
        close(eq.name, got, pre.rhs.xreplace({n: nn}), 1e-12)
    for ctx, dd, gg in ((4096, 128, 1), (4096, 128, 8), (1000, 64, 4)):
        f = ar.attention_flops(1, gg, 1, ctx, dd)                        # g query heads, one K/V head
        q = 2 * 2 * ctx * dd                                             # K and V read once, 2 bytes each
        close(eq.name, ar.arithmetic_intensity(f, q), dec.lhs.rhs.xreplace({L: ctx, d: dd, g: gg}), 1e-12)
        close(eq.name, ar.arithmetic_intensity(f, q), dec.rhs.xreplace({g: gg}), 1e-12)


register(
    "attention_intensity",
    [Clause(sp.Eq(AI_p, _frac(_mul(4, n ** 2, d), _mul(2, 4, n, d)), evaluate=False), _frac(n, 2)),
     Clause(sp.Eq(AI_d, _frac(_mul(4, L, d, g), _mul(2, 2, L, d)), evaluate=False), g)],
    _claim_intensity,
    "FLOPs per byte of one head: prefill reads Q, K, V and writes O once (16-bit) for 4n²d FLOPs; a decode step "
    "reads K and V of L tokens for g query heads.",
    DAO_2022, where="§3.2 IO analysis (Q, K, V, O each read or written once); intensity counted here",
)


# --- E4.6 t ≥ max(F/π, Q/β), ridge = π/β ---------------------------------------------------------------------
def _claim_roofline(eq):
    import attn_ref as ar

    bound, rdg = eq.clauses
    for dev in (ar.H100_SXM, ar.H200, ar.A100_80GB):
        for f, q in ((1e12, 1e9), (4e9, 4e9), (8.6e12, 2.1e10), (1.0, 1e6)):
            r = ar.roofline(f, q, dev)
            got = float(bound.rhs.xreplace({F_sym: f, Q_sym: q, peak: dev.peak_flops, bw: dev.bandwidth}))
            close(eq.name, got, r.time, 1e-12)
        close(eq.name, rdg.rhs.xreplace({peak: dev.peak_flops, bw: dev.bandwidth}), dev.ridge_point, 1e-12)
    if abs(ar.H100_SXM.ridge_point - 295.3) > 0.05 or abs(ar.H200.ridge_point - 206.1) > 0.05:
        raise EquationError(f"{eq.name}: ridges {ar.H100_SXM.ridge_point}, {ar.H200.ridge_point}")


register(
    "roofline_bound",
    [Clause(t_time, sp.Max(_frac(F_sym, peak), _frac(Q_sym, bw), evaluate=False), r"\geq"),
     Clause(ridge, _frac(peak, bw))],
    _claim_roofline,
    "A kernel takes at least its FLOPs at peak or its bytes at full bandwidth, whichever is longer; below the "
    "ridge intensity π/β it is memory-bound (H100 SXM ≈ 295 FLOP/B, H200 ≈ 206).",
    None, where="Williams, Waterman & Patterson 2009, the roofline model (CACM 52(4)); attn_ref.roofline",
)


# --- E4.7 PPL = exp(−(1/T) Σ log p_t), ℓ_t = (1/D) Σ_k −log p_{k,t} ---------------------------------------------
def _claim_perplexity(eq):
    ppl, per_pos = eq.clauses
    gen = rng(407)
    docs, length, vocab = 3, 6, 5
    logits = randn(gen, docs, length, vocab)
    targets = torch.randint(0, vocab, (docs, length), generator=gen)
    nll = torch.nn.CrossEntropyLoss(reduction="none")(logits.reshape(-1, vocab), targets.reshape(-1))
    nll = nll.reshape(docs, length)
    probs = torch.softmax(logits, -1).gather(-1, targets[..., None])[..., 0]     # p(x_t | x_<t)
    for k in range(docs):
        subs = {p_tok[tt]: float(probs[k, tt - 1]) for tt in range(1, length + 1)}
        got = ppl.rhs.xreplace({T: length}).doit().xreplace(subs)
        close(eq.name, got, math.exp(float(nll[k].mean())), 1e-12)
    for tt in range(1, length + 1):
        subs = {p_tok[kk, tt]: float(probs[kk - 1, tt - 1]) for kk in range(1, docs + 1)}
        got = per_pos.rhs.xreplace({D_docs: docs, t_idx: tt}).doit().xreplace(subs)
        close(eq.name, got, float(nll[:, tt - 1].mean()), 1e-12)


register(
    "perplexity",
    [Clause(PPL, sp.exp(-sp.Sum(sp.log(p_tok[t_idx]), (t_idx, 1, T)) / T)),
     Clause(ell[t_idx], sp.Sum(-sp.log(p_tok[k_doc, t_idx]), (k_doc, 1, D_docs)) / D_docs)],
    _claim_perplexity,
    "Perplexity is exp of the mean next-token NLL over all T scored tokens; the loss at position t is that NLL "
    "averaged over D documents read in one forward each (p_t = p(x_t | x_<t)).",
    VASWANI, where="§6.2 (perplexity, per-wordpiece); per-position average: course notation",
)


# --- E4.8 p = e^Δ / (e^Δ + N) ⇒ Δ = ln(pN / (1 − p)) ----------------------------------------------------------
def _claim_dilution(eq):
    import attn_ref as ar

    weight, margin = eq.clauses
    sol = sp.solve(sp.Eq(weight.lhs, weight.rhs), Delta)
    if len(sol) != 1:
        raise EquationError(f"{eq.name}: {sol}")
    identity(eq, weight.rhs.xreplace({Delta: margin.rhs}), weight.lhs)          # the margin gives back p
    for pp, nn in ((0.5, 10), (0.9, 4096), (0.01, 3), (0.99, 10 ** 6)):         # sympy's root is the same, 0 < p < 1
        close(eq.name, complex(sol[0].xreplace({p_w: pp, N: nn})).real, margin.rhs.xreplace({p_w: pp, N: nn}), 1e-12)
    for dl, nn in ((0.0, 1), (2.0, 9), (4.0, 1000), (-1.0, 30), (8.0, 100_000)):
        row = torch.zeros(nn + 1, dtype=torch.float64)
        row[0] = dl
        want = float(ar.softmax(row)[0])
        close(eq.name, weight.rhs.xreplace({Delta: dl, N: nn}), want, 1e-12)
        close(eq.name, margin.rhs.xreplace({p_w: want, N: nn}), dl, 1e-9)
    close(eq.name, margin.rhs.xreplace({p_w: 0.5, N: 10_000}) - margin.rhs.xreplace({p_w: 0.5, N: 1000}),
          math.log(10), 1e-12)


register(
    "softmax_dilution",
    [Clause(p_w, _frac(sp.exp(Delta), sp.Add(sp.exp(Delta), N, evaluate=False))),
     Clause(Delta, sp.log(_frac(_mul(p_w, N), sp.Add(1, -p_w, evaluate=False))), r"=")],
    _claim_dilution,
    "One needle with logit margin Δ over N equal distractors gets weight e^Δ/(e^Δ + N): to keep it fixed, Δ must "
    "grow like ln N (ln 10 per tenfold context).",
    None, where="derivation: softmax of one logit Δ above N equal logits (course notation)",
)
