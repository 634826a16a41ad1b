"""The KV cache (Lecture 5, E5.1–E5.9; E5.3, the cache's bytes, is Lecture 4's ``kv_cache_bytes``): causal
layers leave the K and V rows of old positions unchanged, so a decode step is one softmax row over the cached
keys; the FLOP sums with and without the cache (sympy); the lower-right causal mask of a cached step; positions
under left padding; the split-K (Flash-Decoding) merge by log-sum-exp (sympy for two splits with symbolic
scores); the per-token time bound of a memory-bound decode; top-p (nucleus) truncation.

Checks are numeric against ``attn_ref`` (``TinyDecoder``, ``sdpa``, ``causal_attention_flops``, ``layer_flops``,
``causal_mask``, ``positions_from_mask``, ``flash_decoding``, ``decode_time_lower_bound``,
``sampling_distribution``) and independent oracles (torch's SDPA, plain loops), symbolic with sympy where the
lecture derives a result (the sums and ratios, the merge of two splits).
"""
from __future__ import annotations

import sympy as sp
import torch

from scenes.kit.references import DAO_2023_DECODING, HOLTZMAN, POPE, VASWANI

from .checks import close, identity, mat, randn, rng
from .notation import Softmax, explicit
from .registry import Clause, EquationError, register

# --- symbols ------------------------------------------------------------------------------------------------
t = sp.Symbol("t", integer=True, positive=True)
T = sp.Symbol("T", integer=True, positive=True)
d = sp.Symbol("d", integer=True, positive=True)
d_v = sp.Symbol("d_v", integer=True, positive=True)
P = sp.Symbol("P", integer=True, positive=True)
ell = sp.Symbol(r"\ell", integer=True, positive=True)
rho_attn = sp.Symbol(r"\rho_{\mathrm{attn}}", positive=True)
rho_dense = sp.Symbol(r"\rho_{\mathrm{dense}}", positive=True)
i0, j0 = sp.symbols("i j", integer=True, nonnegative=True)
n_q, n_k = sp.symbols("n_q n_k", integer=True, positive=True)
M_idx = sp.IndexedBase("M")
b_idx = sp.Symbol("b", integer=True, nonnegative=True)
t0 = sp.Symbol("t", integer=True, nonnegative=True)
tp = sp.Symbol("t'", integer=True, nonnegative=True)
s_idx = sp.Symbol("s", integer=True, positive=True)
S = sp.Symbol("S", integer=True, positive=True)
LSE = sp.Symbol(r"\mathrm{LSE}", real=True)
LSE_s = sp.IndexedBase(r"\mathrm{LSE}")
O_sym = sp.Symbol("O")
O_s = sp.IndexedBase("O")
t_tok = sp.Symbol(r"t_{\mathrm{token}}", positive=True)
bytes_w = sp.Symbol(r"\mathrm{bytes}_{\mathrm{weights}}", positive=True)
bytes_kv = sp.Symbol(r"\mathrm{bytes}_{\mathrm{KV}}", positive=True)
beta = sp.Symbol(r"\beta", positive=True)
k_star = sp.Symbol(r"k^{\ast}", integer=True, positive=True)
k_var = sp.Symbol("k", integer=True, positive=True)
r_var = sp.Symbol("r", integer=True, positive=True)
p_top = sp.Symbol("p", positive=True)


def _mul(*f):
    return sp.Mul(*f, evaluate=False)


def _add(*a):
    return sp.Add(*a, evaluate=False)


def _frac(a, b_):
    return sp.Mul(a, sp.Pow(b_, -1, evaluate=False), evaluate=False)


def _model(seed: int = 11):
    import attn_ref as ar

    return ar.TinyDecoder(ar.DecoderConfig(vocab_size=32, d_model=16, n_layers=3, n_heads=4, n_kv_heads=2, d_ff=32,
                                           max_len=32, seed=seed)).double().eval()


# --- E5.1 K^{(ℓ)}_{1:t}(x_{1:t+1}) = K^{(ℓ)}_{1:t}(x_{1:t}) -------------------------------------------------------
class LayerRows(sp.Expr):
    """K^{(ℓ)}_{a:b}(x_{c:e}) (or V): rows a … b (1-based) of layer ℓ's keys when the model runs on x_c … x_e.
    Evaluated by :func:`layer_rows` in a claim (a forward of ``attn_ref.TinyDecoder``)."""

    def __new__(cls, which, layer, a, b_, c, e):
        which = which if isinstance(which, sp.Symbol) else sp.Symbol(which)
        return sp.Basic.__new__(cls, which, *(sp.sympify(x) for x in (layer, a, b_, c, e)))

    def _latex(self, printer):
        which, layer, a, b_, c, e = self.args
        p = printer._print
        return (rf"{which.name}^{{({p(layer)})}}_{{{p(a)}:{p(b_)}}}\big(x_{{{p(c)}:{p(e)}}}\big)")


def layer_rows(expr: LayerRows, subs: dict, model, ids) -> torch.Tensor:
    """Evaluate ``expr`` with ``subs`` (integers for ℓ, t): run ``model`` on ids[c−1 … e−1], keep rows a … b."""
    import attn_ref as ar

    which, layer, a, b_, c, e = (x.xreplace(subs) if isinstance(x, sp.Basic) else x for x in expr.args)
    a, b_, c, e, layer = (int(x) for x in (a, b_, c, e, layer))
    if a < c or b_ > e:
        raise EquationError(f"rows {a}:{b_} are not among the inputs {c}:{e}")
    trace = ar.Trace()
    with torch.no_grad():
        model(torch.tensor([list(ids[c - 1:e])]), trace=trace)
    step = trace.of_kind("mha.forward")[layer - 1]
    return step["k" if which.name == "K" else "v"][0][:, a - c:b_ - c + 1]


def _claim_prefix(eq):
    m = _model()
    g = torch.Generator().manual_seed(501)
    ids = torch.randint(0, 32, (12,), generator=g).tolist()
    for cl in eq.clauses:
        for layer in (1, 2, 3):
            for tt in (1, 4, 11):
                subs = {ell: layer, t: tt}
                a, b_ = layer_rows(cl.lhs, subs, m, ids), layer_rows(cl.rhs, subs, m, ids)
                close(eq.name, mat(a.reshape(-1, a.shape[-1])), mat(b_.reshape(-1, b_.shape[-1])), 1e-12)
    # without the causal mask (an encoder) the claim is false from layer 2 on: the check can fail
    enc = _model()
    for blk in enc.blocks:
        blk.attn.causal = False
    cl = eq.clauses[0]
    a, b_ = layer_rows(cl.lhs, {ell: 2, t: 4}, enc, ids), layer_rows(cl.rhs, {ell: 2, t: 4}, enc, ids)
    if torch.allclose(a, b_, atol=1e-6):
        raise EquationError(f"{eq.name}: a bidirectional layer 2 should see the appended token")


register(
    "kv_prefix_invariance",
    [Clause(LayerRows("K", ell, 1, t, 1, _add(t, 1)), LayerRows("K", ell, 1, t, 1, t)),
     Clause(LayerRows("V", ell, 1, t, 1, _add(t, 1)), LayerRows("V", ell, 1, t, 1, t))],
    _claim_prefix,
    "Under a causal mask the keys and values of positions 1 … t do not change when a token is appended, in every "
    "layer: they can be cached.",
    None, {"K": "K", "V": "V"},
    where="derivation: row i of a causal layer depends on x_1 … x_i only (the mask of Vaswani et al. §3.2.3); "
          "checked on attn_ref.TinyDecoder",
)


# --- E5.2 o_t = softmax(q_t K_{1:t}^⊤/√d) V_{1:t} ------------------------------------------------------------------
q_t = sp.MatrixSymbol("q_{t}", 1, d)
K_1t = sp.MatrixSymbol("K_{1:t}", t, d)
V_1t = sp.MatrixSymbol("V_{1:t}", t, d_v)
o_t = sp.MatrixSymbol("o_{t}", 1, d_v)


def _claim_decode_row(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    gen = rng(502)
    for n, dd, dv in ((1, 4, 3), (5, 4, 3), (9, 8, 2)):
        q, k, v = randn(gen, n, dd), randn(gen, n, dd), randn(gen, n, dv)
        full = ar.sdpa(q[None, None], k[None, None], v[None, None], is_causal=True)[0, 0]
        ref = torch.nn.functional.scaled_dot_product_attention(q[None], k[None], v[None], is_causal=True)[0]
        for tt in range(1, n + 1):
            subs = {q_t: mat(q[tt - 1:tt]), K_1t: mat(k[:tt]), V_1t: mat(v[:tt]), t: tt, d: dd, d_v: dv}
            rhs = explicit(cl.rhs.xreplace(subs))
            close(eq.name, rhs, mat(full[tt - 1:tt]), 1e-12)
            close(eq.name, rhs, mat(ref[tt - 1:tt]), 1e-12)


register(
    "decode_attention_row",
    [Clause(o_t, sp.MatMul(Softmax(q_t * K_1t.T / sp.sqrt(d)), V_1t))],
    _claim_decode_row,
    "A decode step: the new query against the cached keys, one softmax row, equal to row t of the full causal "
    "forward.",
    VASWANI, {"q_{t}": "Q", "K_{1:t}": "K", "V_{1:t}": "V"}, where="eq. (1), one query row under the causal mask",
)


# --- E5.4 the FLOP sums --------------------------------------------------------------------------------------
def _claim_attention_sums(eq):
    import attn_ref as ar

    no, yes, ratio = eq.clauses
    for cl in (no, yes):
        identity(eq, sp.summation(cl.lhs.function, *cl.lhs.limits), cl.rhs)
    identity(eq, no.rhs / yes.rhs, ratio.rhs)
    for dd in (8, 128):
        for TT in (1, 2, 7, 100):
            a = sum(ar.causal_attention_flops(tt, tt, dd) for tt in range(1, TT + 1))
            b_ = sum(ar.causal_attention_flops(1, tt, dd) for tt in range(1, TT + 1))
            if a != no.rhs.xreplace({d: dd, T: TT}) or b_ != yes.rhs.xreplace({d: dd, T: TT}):
                raise EquationError(f"{eq.name}: sums at d={dd}, T={TT}: {a}, {b_}")
            close(eq.name, a / b_, ratio.rhs.xreplace({T: TT}), 1e-14)


register(
    "cache_attention_flops",
    [Clause(sp.Sum(_mul(2, d, t, _add(t, 1)), (t, 1, T)), _frac(_mul(2, d, T, _add(T, 1), _add(T, 2)), 3)),
     Clause(sp.Sum(_mul(4, d, t), (t, 1, T)), _mul(2, d, T, _add(T, 1))),
     Clause(rho_attn, _frac(_add(T, 2), 3))],
    _claim_attention_sums,
    "Attention FLOPs per layer and head over T steps: recomputing the causal triangle each step vs one new row "
    "against the cache; the ratio grows like T/3.",
    None, where="derivation: exact causal counts, 2d per q·k and 2d per p·v (attn_ref.causal_attention_flops)",
)


def _claim_dense_sums(eq):
    import attn_ref as ar

    no, yes, ratio = eq.clauses
    for cl in (no, yes):
        identity(eq, sp.summation(cl.lhs.function, *cl.lhs.limits), cl.rhs)
    identity(eq, no.rhs / yes.rhs, ratio.rhs)
    cfg = ar.LLAMA2_7B
    two_p = cfg.layer_flops(1)["dense"]                         # 2 FLOPs per parameter per token
    for TT in (1, 3, 50):
        a = sum(cfg.layer_flops(tt)["dense"] for tt in range(1, TT + 1))
        if a != no.rhs.xreplace({P: two_p // 2, T: TT}) or TT * two_p != yes.rhs.xreplace({P: two_p // 2, T: TT}):
            raise EquationError(f"{eq.name}: dense sums at T={TT}")


register(
    "cache_dense_flops",
    [Clause(sp.Sum(_mul(2, P, t), (t, 1, T)), _mul(P, T, _add(T, 1))),
     Clause(sp.Sum(_mul(2, P), (t, 1, T)), _mul(2, P, T)),
     Clause(rho_dense, _frac(_add(T, 1), 2))],
    _claim_dense_sums,
    "The dense layers (P parameters, 2 FLOPs each per token): the whole prefix each step vs one token.",
    None, where="derivation: 2 FLOPs per parameter per token (Kaplan et al.'s count; attn_ref.layer_flops)",
)


# --- E5.5 lower-right causal mask ---------------------------------------------------------------------------
class Iverson(sp.Expr):
    """[condition]: 1 when it holds, else 0."""

    def __new__(cls, cond):
        return sp.Basic.__new__(cls, cond)

    def _latex(self, printer):
        return r"\big[\," + printer._print(self.args[0]) + r"\,\big]"

    def doit(self, **hints):
        c = self.args[0].doit() if hasattr(self.args[0], "doit") else self.args[0]
        if c in (sp.true, sp.false):
            return sp.Integer(1 if c is sp.true else 0)
        return self


def _claim_lower_right(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    for nq, nk in ((1, 1), (1, 6), (3, 4), (3, 7), (5, 5), (2, 9)):
        want = ar.causal_mask(nq, nk, "lower_right")
        for a in range(nq):
            for c in range(nk):
                got = cl.rhs.xreplace({i0: a, j0: c, n_q: nq, n_k: nk}).doit()
                if int(got) != int(want[a, c]):
                    raise EquationError(f"{eq.name}: M[{a},{c}] for ({nq}, {nk}) drawn {got}, attn_ref {want[a, c]}")
    if not ar.causal_mask(1, 6, "lower_right").all():
        raise EquationError(f"{eq.name}: one decode query must see every key")
    documented = [[1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]
    if ar.causal_mask(3, 4, "lower_right").int().tolist() != documented:
        raise EquationError(f"{eq.name}: the (3, 4) case is not the documented matrix")


register(
    "causal_mask_lower_right",
    [Clause(M_idx[i0, j0], Iverson(sp.Le(j0, _add(i0, n_k, -n_q), evaluate=False)))],
    _claim_lower_right,
    "With a cache the n_q new queries are the last n_q positions: query i (0-based) sees keys j ≤ i + n_k − n_q. "
    "One decode query sees every key.",
    None, {"M": "MASK"}, where="course notation (0-based); FlashAttention ≥ 2.1's causal alignment, "
                               "attn_ref.causal_mask(…, 'lower_right')",
)


# --- E5.6 positions under left padding ----------------------------------------------------------------------
class Idx2(sp.Expr):
    """base_{b,t}: an entry of a (batch, position) table, printed with a comma between the indices."""

    def __new__(cls, base, b_, t_):
        base = base if isinstance(base, sp.Symbol) else sp.Symbol(base)
        return sp.Basic.__new__(cls, base, sp.sympify(b_), sp.sympify(t_))

    def _latex(self, printer):
        base, b_, t_ = self.args
        return f"{base.name}_{{{printer._print(b_)},{printer._print(t_)}}}"


def _claim_positions(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    for lengths, n in (((5, 3), 5), ((1, 4, 2), 4), ((6,), 6)):
        mask = ar.padding_mask(list(lengths), n, side="left")
        want = ar.positions_from_mask(mask)
        for bb in range(len(lengths)):
            for tt in range(n):
                if not mask[bb, tt]:
                    continue                                   # pads: clamped to 0 by attn_ref, masked anyway
                got = cl.rhs.xreplace({b_idx: bb, t0: tt}).doit().xreplace(
                    {Idx2("m", bb, k): int(mask[bb, k]) for k in range(n)})
                if int(got) != int(want[bb, tt]) or int(got) != int(mask[bb, :tt + 1].sum()) - 1:
                    raise EquationError(f"{eq.name}: p[{bb},{tt}] = {got}, attn_ref {want[bb, tt]}")
    # the point of it: a left-padded batch with these positions gives each row's unpadded logits
    m = _model()
    prompts = ([3, 9, 27, 4, 11], [7, 1, 30])
    n = 5
    toks = torch.tensor([[0] * (n - len(p)) + p for p in prompts])
    mask = ar.padding_mask([len(p) for p in prompts], n, side="left")
    with torch.no_grad():
        batch = m(toks, positions=ar.positions_from_mask(mask), attn_mask=mask)
        for bb, p in enumerate(prompts):
            alone = m(torch.tensor([p]))[0]
            close(eq.name, mat(batch[bb, n - len(p):]), mat(alone), 1e-12)


register(
    "padded_positions",
    [Clause(Idx2("p", b_idx, t0), _add(sp.Sum(Idx2("m", b_idx, tp), (tp, 0, t0)), -1))],
    _claim_positions,
    "Left padding: each row counts its own real tokens, so its positions are those it would have unpadded.",
    None, where="course notation (0-based t, mask m = 1 for real tokens); HF's cumsum(attention_mask) − 1, "
                "attn_ref.positions_from_mask",
)


# --- E5.7 split-K merge -------------------------------------------------------------------------------------
def _claim_merge(eq):
    import attn_ref as ar

    lse_cl, o_cl = eq.clauses
    # symbolic, two splits of scores (a1, a2 | c1) with values: the merge is the softmax over the union
    a1, a2, c1, v1, v2, v3 = sp.symbols("a1 a2 c1 v1 v2 v3", real=True)
    l1, l2 = sp.log(sp.exp(a1) + sp.exp(a2)), sp.log(sp.exp(c1))
    o1 = (sp.exp(a1) * v1 + sp.exp(a2) * v2) / (sp.exp(a1) + sp.exp(a2))
    o2 = v3
    split = {LSE_s[1]: l1, LSE_s[2]: l2, O_s[1]: o1, O_s[2]: o2}
    lse = lse_cl.rhs.xreplace({S: 2}).doit().xreplace(split)
    identity(eq, sp.exp(lse), sp.exp(a1) + sp.exp(a2) + sp.exp(c1))
    out = o_cl.rhs.xreplace({S: 2}).doit().xreplace(split).xreplace({LSE: lse})
    union = (sp.exp(a1) * v1 + sp.exp(a2) * v2 + sp.exp(c1) * v3) / (sp.exp(a1) + sp.exp(a2) + sp.exp(c1))
    if sp.simplify(out - union) != 0:
        raise EquationError(f"{eq.name}: merged output is not the softmax over the union: {out}")
    # numeric: attn_ref.flash_decoding's splits, merged by the drawn formulas, equal torch's SDPA
    gen = rng(507)
    for nk, splits in ((5, 1), (9, 2), (16, 4), (33, 5)):
        q, k, v = randn(gen, 1, 1, 2, 8), randn(gen, 1, 1, nk, 8), randn(gen, 1, 1, nk, 3)
        trace = ar.Trace()
        out_ar, lse_ar = ar.flash_decoding(q, k, v, splits, return_lse=True, trace=trace)
        parts = trace.of_kind("flash_decoding.split")
        ref = torch.nn.functional.scaled_dot_product_attention(q, k, v)
        for row in range(2):
            sub = {S: splits}
            vals = {LSE_s[s_ + 1]: float(p["lse_s"][0, 0, row]) for s_, p in enumerate(parts)}
            lse_v = float(lse_cl.rhs.xreplace(sub).doit().xreplace(vals))
            close(eq.name, lse_v, float(lse_ar[0, 0, row]), 1e-12)
            for col in range(3):
                ov = {O_s[s_ + 1]: float(p["O_s"][0, 0, row, col]) for s_, p in enumerate(parts)}
                got = float(o_cl.rhs.xreplace(sub).doit().xreplace({**vals, **ov, LSE: lse_v}))
                close(eq.name, got, float(ref[0, 0, row, col]), 1e-12)
                close(eq.name, got, float(out_ar[0, 0, row, col]), 1e-12)


register(
    "split_lse_merge",
    [Clause(LSE, sp.log(sp.Sum(sp.exp(LSE_s[s_idx]), (s_idx, 1, S)))),
     Clause(O_sym, sp.Sum(_mul(sp.exp(_add(LSE_s[s_idx], -LSE)), O_s[s_idx]), (s_idx, 1, S)))],
    _claim_merge,
    "Split-K decoding: each split s of the keys gives its log-sum-exp and its normalised output; rescaling by "
    "e^{LSE_s − LSE} and adding gives exactly attention over all keys.",
    DAO_2023_DECODING, where="the reduction step (rescale each split's output by its log-sum-exp and sum)",
)


# --- E5.8 t_token ≥ (bytes_weights + bytes_KV) / β ---------------------------------------------------------------
def _claim_token_bound(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    for cfg in (ar.LLAMA2_7B, ar.MISTRAL_7B, ar.LLAMA2_70B):
        for dev in (ar.H100_SXM, ar.H200, ar.A100_80GB):
            for n in (1, 4096, 32768):
                w, kv = cfg.n_params() * 2, cfg.kv_cache_bytes(n)
                got = float(cl.rhs.xreplace({bytes_w: w, bytes_kv: kv, beta: dev.bandwidth}))
                close(eq.name, got, ar.decode_time_lower_bound(cfg.decode_bytes(n), dev), 1e-12)
    # Llama-2-7B at 4K on an H100 SXM: 13.48 GB of weights + 2 GiB of KV at 3.35 TB/s ≥ 4.66 ms
    got = float(cl.rhs.xreplace({bytes_w: ar.LLAMA2_7B.n_params() * 2, bytes_kv: 2 * 2 ** 30,
                                 beta: ar.H100_SXM.bandwidth}))
    if abs(got * 1e3 - 4.664) > 5e-3:
        raise EquationError(f"{eq.name}: Llama-2-7B at 4K gives {got * 1e3:.3f} ms, not 4.664")


register(
    "decode_token_bound",
    [Clause(t_tok, _frac(_add(bytes_w, bytes_kv), beta), r"\geq")],
    _claim_token_bound,
    "A decode step reads every weight and the whole cache at least once: at batch 1 its time is bounded by "
    "bytes over bandwidth, whatever the FLOPs.",
    POPE, where="§2 (inference cost trade-offs: at small batch each step loads the weights and the KV cache); "
                "attn_ref.decode_time_lower_bound",
)


# --- E5.9 top-p ---------------------------------------------------------------------------------------------
class SortedP(sp.Expr):
    """p_{(r)}: the r-th largest probability (order statistic)."""

    def __new__(cls, r):
        return sp.Basic.__new__(cls, sp.sympify(r))

    def _latex(self, printer):
        return r"p_{(" + printer._print(self.args[0]) + ")}"


class MinSet(sp.Expr):
    """min{k : condition}: the smallest positive integer k for which the condition holds."""

    def __new__(cls, var, cond):
        return sp.Basic.__new__(cls, var, cond)

    def _latex(self, printer):
        var, cond = self.args
        return r"\min\left\{" + printer._print(var) + r" : " + printer._print(cond) + r"\right\}"

    def evaluate(self, sorted_p, top_p: float) -> int:
        var, cond = self.args
        for kk in range(1, len(sorted_p) + 1):
            c = cond.xreplace({var: kk, p_top: top_p}).doit().xreplace(
                {SortedP(r + 1): sorted_p[r] for r in range(len(sorted_p))})
            if bool(c):
                return kk
        raise EquationError(f"no k satisfies {cond}")


def _claim_top_p(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    gen = rng(509)
    for trial in range(6):
        z = randn(gen, 12) * (1 + trial)
        for temp in (0.7, 1.0, 1.3):
            probs = torch.softmax(z / temp, -1)
            close(eq.name, mat(ar.sampling_distribution(z, temp)[None]), mat(probs[None]), 1e-12)   # p_i(τ)
            sorted_p, order = torch.sort(probs, descending=True)
            for top in (0.5, 0.9, 0.99):
                kk = cl.rhs.evaluate(sorted_p.tolist(), top)
                kept = order[:kk]
                want = torch.zeros_like(probs)
                want[kept] = probs[kept] / probs[kept].sum()
                got = ar.sampling_distribution(z, temp, top_p=top)
                close(eq.name, mat(got[None]), mat(want[None]), 1e-12)


register(
    "top_p_nucleus",
    [Clause(k_star, MinSet(k_var, sp.Ge(sp.Sum(SortedP(r_var), (r_var, 1, k_var)), p_top, evaluate=False)))],
    _claim_top_p,
    "Top-p keeps the k* most likely tokens, the smallest prefix of the sorted distribution whose mass reaches "
    "p, and renormalises (after the temperature: p_i(τ) = softmax(z/τ)_i).",
    HOLTZMAN, where="§3.1 nucleus sampling (the top-p vocabulary); as in attn_ref.sampling_distribution",
)
