"""Standard vs differential attention on retrieval with distractors (Ye et al. 2024)."""
from __future__ import annotations

from ..model import ModelConfig
from ..tasks import NeedleHaystack, make_task
from ..trainer import TrainConfig
from ._common import (
    Experiment,
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
             "map_distractors": 3, "seed": 4242},
}


def _run_attention_noise(cfg: dict, progress: bool, threads) -> tuple[dict, dict]:
    task = make_task(cfg["task"])
    e = cfg["eval"]
    metrics, out_maps = {"models": {}}, {}
    for label, key in (("standard", "model_standard"), ("differential", "model_differential")):
        mc = ModelConfig(**cfg[key])

        def probe(model, step, mc=mc):
            if mc.attention != "diff":
                return {}
            return {"lambda": [float(b.attn.lambda_full().detach()) for b in model.blocks]}

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
        metrics["models"][label] = entry
        out_maps.update(_answer_row_maps(model, t, e, label,
                                         " (A1 − λ·A2, entries can be negative)" if mc.attention == "diff" else ""))
    return metrics, out_maps


EXPERIMENT = Experiment("attention_noise",
                        "Standard vs differential attention (same parameter budget: 4 heads vs 2 differential heads) on "
                        "needle retrieval with 6 distractors: accuracy and the answer position's attention mass on the "
                        "needle vs the distractors; lambda per layer over training.",
                        ({"paper": "Ye et al. 2024, Differential Transformer", "arxiv": "2410.05258"},),
                        _NOISE_FULL,
                        _small(_quick(_NOISE_FULL, train__steps=4, train__log_every=2, eval__n_eval=8,
                                      eval__n_eval_depth=4, eval__depths=[0.0, 1.0]),
                               "model_standard", "model_differential"),
                        _run_attention_noise)
