"""Standard vs differential attention on retrieval with distractors (Ye et al. 2024).

Besides the retrieval metrics, every logged step records the largest pre-softmax attention logit per layer
(q·k·s, s = 1/√d, after RoPE; for differential attention separately for the logits behind A1 and A2) on a
fixed probe batch: :func:`attention_logits` recomputes them from each attention module's own projections
and its actual input (captured with a forward pre-hook), with RoPE applied as the module applies it; the
softmax of those logits reproduces the model's maps (tested).
"""
from __future__ import annotations

import torch

from ..model import ModelConfig, TinyTransformer
from ...core import attention_scores
from ...rope import apply_rope, rope_frequencies
from ..tasks import NeedleHaystack, make_task
from ..trainer import TrainConfig
from ._common import (
    Experiment,
    _eval_batch,
    _loss_curve,
    _quick,
    _small,
    _train,
)
from ._retrieval import _answer_row_maps, _retrieval_eval

_NOISE_TASK = NeedleHaystack(context_len=64, depth=None, n_distractors=6, n_queries=1, filler="repeat",
                             min_period=8, max_period=16)
_NOISE_FULL = {
    "seed": 0,
    "model_standard": ModelConfig(vocab_size=_NOISE_TASK.vocab_size, d_model=64, n_layers=2, n_heads=4, d_ff=256,
                                  attention="mha", positions="rope", rope_pairing="interleaved",
                                  token_shift=True).to_dict(),
    "model_differential": ModelConfig(vocab_size=_NOISE_TASK.vocab_size, d_model=64, n_layers=2, n_heads=2,
                                      d_ff=256, attention="diff", positions="rope", rope_pairing="interleaved",
                                      token_shift=True).to_dict(),
    "task": _NOISE_TASK.to_dict(),
    "train": TrainConfig(steps=800, batch_size=32, lr=3e-3, warmup=50, log_every=50, seed=0).to_dict(),
    "eval": {"n_eval": 256, "n_eval_depth": 100, "depths": [0.0, 0.25, 0.5, 0.75, 1.0], "map_length": 32,
             "map_distractors": 3, "seed": 4242, "n_logit_probe": 64, "logit_probe_seed": 5242},
}


@torch.no_grad()
def attention_logits(model: TinyTransformer, tokens: torch.Tensor) -> list[dict]:
    """Pre-softmax attention logits of every layer on ``tokens`` (B, L), recomputed from the model's own
    projections: a forward pre-hook captures each attention module's input u (the RMS-normalised residual
    stream), then q = u W_q, k = u W_k per head, RoPE at positions 0..L−1 exactly as the module applies
    it, and S = q kᵀ · s (s = 1/√d_head; for differential attention s = 1/√d with d = d_model/n_heads/2).
    Causally masked entries (key j > query i) are −inf, so ``softmax(S, -1)`` is the attention map.

    Returns one dict per layer: ``{"logits": (B, H, L, L)}`` for mha/gqa (query heads, K/V heads repeated
    for GQA), ``{"logits1", "logits2": (B, H, L, L)}`` for diff (the logits behind A1 and A2 of each
    differential head: q/k heads 2h and 2h+1, as the module pairs them).
    Only rope/nope/sinusoidal positions (an ALiBi bias would not be part of q·k).
    """
    cfg = model.config
    if cfg.attention not in ("mha", "gqa", "diff") or cfg.positions not in ("rope", "nope", "sinusoidal"):
        raise ValueError(f"attention_logits supports attention mha/gqa/diff with positions rope/nope/sinusoidal, "
                         f"got attention={cfg.attention!r}, positions={cfg.positions!r}")
    if getattr(cfg, "window", None):
        raise ValueError("attention_logits does not apply sliding-window masks")
    inputs: list = [None] * len(model.blocks)
    hooks = [b.attn.register_forward_pre_hook(lambda mod, args, i=i: inputs.__setitem__(i, args[0].detach()))
             for i, b in enumerate(model.blocks)]
    try:
        model(tokens)
    finally:
        for h in hooks:
            h.remove()
    B, L = tokens.shape
    pos = torch.arange(L)
    out = []
    for block, u in zip(model.blocks, inputs):
        a = block.attn
        if cfg.attention == "diff":
            h, d = a.n_heads, a.head_dim
            q = a.q_proj(u).view(B, L, 2 * h, d).transpose(1, 2)        # (B, 2H, L, d)
            k = a.k_proj(u).view(B, L, 2 * h, d).transpose(1, 2)
            if a.rope is not None:
                inv_freq, factor = rope_frequencies(d, base=a.rope_base)
                q = apply_rope(q, pos, inv_freq, pairing=a.rope, attention_factor=factor)
                k = apply_rope(k, pos, inv_freq, pairing=a.rope, attention_factor=factor)
            s = attention_scores(q * a.scaling, k, is_causal=True, scale=1.0).view(B, h, 2, L, L)
            out.append({"logits1": s[:, :, 0], "logits2": s[:, :, 1]})
        else:
            q = a._split(a.q_proj(u), a.n_heads)                        # (B, H, L, d_h)
            k = a._split(a.k_proj(u), a.n_kv_heads)
            if a.rope is not None:
                q, k = a.rope(q, pos), a.rope(k, pos)
            out.append({"logits": attention_scores(q, k, is_causal=True, enable_gqa=True)})
    return out


def _max_logits(logits: list[dict]) -> dict:
    """Per layer, the largest unmasked logit (over samples, heads, queries, keys) of each logit tensor
    ("logits" -> "max_logit"; "logits1"/"logits2" -> "max_logit_A1"/"max_logit_A2"), and per (layer, head)
    tables of the same ("..._by_head")."""
    names = {"logits": "max_logit", "logits1": "max_logit_A1", "logits2": "max_logit_A2"}
    res: dict = {}
    for key, name in names.items():
        if key not in logits[0]:
            continue
        by_head = [lg[key].amax(dim=(0, 2, 3)) for lg in logits]        # (H,) per layer; -inf never the max
        res[name] = [float(t.max()) for t in by_head]
        res[f"{name}_by_head"] = [t.tolist() for t in by_head]
    return res


def _run_attention_noise(cfg: dict, progress: bool, threads) -> tuple[dict, dict]:
    task = make_task(cfg["task"])
    e = cfg["eval"]
    metrics, out_maps = {"models": {}}, {}
    probe_tokens = _eval_batch(task, e["n_logit_probe"], e["logit_probe_seed"]).tokens   # fixed, own generator
    for label, key in (("standard", "model_standard"), ("differential", "model_differential")):
        mc = ModelConfig(**cfg[key])

        def probe(model, step, mc=mc):
            rec = {k: v for k, v in _max_logits(attention_logits(model, probe_tokens)).items()
                   if not k.endswith("_by_head")}
            if mc.attention == "diff":
                rec["lambda"] = [float(b.attn.lambda_full().detach()) for b in model.blocks]
            return rec

        res = _train(cfg, task, f"noise[{label}]", progress, threads, probe=probe, key=key)
        model = res.model
        t = task.with_(n_queries=1)
        r, _, _ = _retrieval_eval(model, t, e["n_eval"], e["seed"])
        by_depth = []
        for k, depth in enumerate(e["depths"]):
            rd, _, _ = _retrieval_eval(model, t.with_(depth=depth), e["n_eval_depth"], e["seed"] + 1 + k,
                                       want_mass=False)
            by_depth.append(rd["accuracy"])
        entry = {"attention": mc.attention, "n_heads": mc.n_heads, "n_params": model.n_params(), **r,
                 "accuracy_by_depth": by_depth, "final_train_loss": res.history[-1]["loss"],
                 "loss_curve": _loss_curve(res.history)}
        if mc.attention == "diff":
            entry["lambda_curve"] = [[h["step"], h["lambda"]] for h in res.history]
            entry["lambda_init"] = [b.attn.lambda_init for b in model.blocks]
        final = _max_logits(attention_logits(model, probe_tokens))
        for name in ("max_logit", "max_logit_A1", "max_logit_A2"):
            if name in final:                                          # per layer, at every logged step
                entry[f"{name}_curve"] = [[h["step"], h[name]] for h in res.history]
                entry[f"{name}_by_head"] = final[f"{name}_by_head"]      # final model, layers × heads
        metrics["models"][label] = entry
        out_maps.update(_answer_row_maps(model, t, e, label,
                                         " (A1 − λ·A2, entries can be negative)" if mc.attention == "diff" else ""))
    return metrics, out_maps


EXPERIMENT = Experiment("attention_noise",
                        "Standard vs differential attention (same parameter budget: 4 heads vs 2 differential heads) "
                        "on needle retrieval with 6 distractors: accuracy and the answer position's attention mass on "
                        "the needle vs the distractors; lambda per layer and the largest pre-softmax attention logit "
                        "per layer over training.",
                        ({"paper": "Ye et al. 2024, Differential Transformer", "arxiv": "2410.05258"},),
                        _NOISE_FULL,
                        _small(_quick(_NOISE_FULL, train__steps=4, train__log_every=2, eval__n_eval=8,
                                      eval__n_eval_depth=4, eval__depths=[0.0, 1.0], eval__n_logit_probe=4),
                               "model_standard", "model_differential"),
                        _run_attention_noise)
