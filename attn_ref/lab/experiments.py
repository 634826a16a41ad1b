"""The lab's five named experiments. Each is a configured, seeded run whose result is one JSON file.

``run_experiment(name, quick=False)`` trains what the configuration says, evaluates it and returns the
result dict (schema in :mod:`attn_ref.lab.results`); ``write=True`` also writes it to
``results/experiments/<name>.json`` (quick runs never overwrite the committed files). ``quick=True``
swaps in a shortened configuration (seconds) used by the tests.

=======================  ====================================================================================
name                     what it shows
=======================  ====================================================================================
``head_specialisation``  2-layer attention-only model on repeated random sequences: previous-token and
                         induction heads emerge (Olsson et al. 2022, arXiv:2209.11895)
``needle_haystack``      needle retrieval over context length × depth, trained at 64, evaluated beyond it,
                         for RoPE, RoPE + PI / YaRN (eval time), NoPE, ALiBi; filler loss by position
``attention_noise``      standard vs differential attention on retrieval with distractors: accuracy and
                         attention mass on the answer vs distractors (Ye et al. 2024, arXiv:2410.05258)
``routing_balance``      MoA attention with and without the Switch load-balancing loss: expert load over
                         training and its coefficient of variation (Fedus et al. 2021, arXiv:2101.03961)
``recall_capacity``      softmax vs linear attention on multi-query associative recall as the number of
                         pairs grows against a fixed state (Arora et al. 2023, "Zoology", arXiv:2312.04927)
=======================  ====================================================================================
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..linear import linear_attention_state_elems, softmax_kv_cache_elems
from ..rope import RopeScaling
from .model import ModelConfig, TinyTransformer
from .provenance import provenance
from .results import SCHEMA, result_path, validate_result, write_result
from .scores import (coefficient_of_variation, induction_score, previous_token_score, retrieval_accuracy,
                     span_mass)
from .tasks import IGNORE, AssociativeRecall, NeedleHaystack, RepeatedSequences, make_task
from .trainer import TrainConfig, train

__all__ = ["EXPERIMENTS", "Experiment", "experiment_config", "list_experiments", "run_experiment"]


# ----------------------------------------------------------------------------------------------- helpers

def _round(obj, nd: int = 6):
    """Round every float in a nested structure (JSON numbers are compared exactly across runs)."""
    if isinstance(obj, float):
        r = round(obj, nd)
        return 0.0 if r == 0 else r
    if isinstance(obj, dict):
        return {k: _round(v, nd) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round(v, nd) for v in obj]
    if isinstance(obj, torch.Tensor):
        return _round(obj.tolist(), nd)
    return obj


def _map(values: torch.Tensor, rows: str, cols: str, caption: str, tokens=None) -> dict:
    v = torch.as_tensor(values, dtype=torch.float64)
    if v.dim() == 1:
        v = v[None]
    if v.dim() != 2 or v.shape[0] > 32 or v.shape[1] > 32:
        raise ValueError(f"maps are 2-D and at most 32×32, got shape {tuple(v.shape)}")
    m = {"values": _round(v.tolist(), 4), "rows": rows, "cols": cols, "caption": caption}
    if tokens is not None:
        m["tokens"] = [int(t) for t in tokens]
    return m


def _eval_batch(task, n: int, seed: int):
    return task.sample(n, torch.Generator().manual_seed(seed))


@torch.no_grad()
def _forward(model: TinyTransformer, tokens: torch.Tensor, maps: bool = False, chunk: int = 64):
    """Forward in chunks of ``chunk`` sequences; returns (logits, maps or None)."""
    logits, all_maps = [], []
    for i in range(0, tokens.shape[0], chunk):
        out = model(tokens[i:i + chunk], return_maps=maps)
        logits.append(out.logits)
        if maps:
            all_maps.append(out.maps)
    lg = torch.cat(logits)
    if not maps:
        return lg, None
    return lg, [torch.cat([m[layer] for m in all_maps]) for layer in range(len(all_maps[0]))]


_CHECKPOINTS: dict = {"dir": None, "every": 100}


def _train(cfg: dict, task, label: str, progress: bool, threads, probe=None, key: str = "model"):
    """Train one model of an experiment; with a checkpoint folder set (``run_experiment(checkpoint_dir=)``)
    it checkpoints every 100 steps to ``<dir>/<label>.pt`` and resumes from there."""
    mc = ModelConfig(**cfg[key])
    tc = TrainConfig(**cfg["train"])
    path = None
    if _CHECKPOINTS["dir"] is not None:
        tc = replace(tc, checkpoint_every=_CHECKPOINTS["every"])
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in label)
        path = str(Path(_CHECKPOINTS["dir"]) / f"{safe}.pt")
    return train(mc, task, tc, probe=probe, progress=progress, label=label, threads=threads, checkpoint_path=path)


def _loss_curve(history) -> list:
    return [[h["step"], h["loss"]] for h in history if h["loss"] is not None]


def _best(table) -> dict:
    """(layer, head, score) of the largest entry of a layer × head table."""
    t = torch.as_tensor(table)
    idx = int(t.argmax())
    layer, head = divmod(idx, t.shape[1])
    return {"layer": layer, "head": head, "score": float(t[layer, head])}


# ------------------------------------------------------------------------------ 1. head specialisation

def _run_head_specialisation(cfg: dict, progress: bool, threads) -> tuple[dict, dict]:
    task = make_task(cfg["task"])
    ev = _eval_batch(task, cfg["eval"]["n_eval"], cfg["eval"]["seed"])
    period, start = ev.info["period"], ev.info["start"]

    def scores(maps):
        pt = [previous_token_score(w).mean(0) for w in maps]                # (H,) per layer
        ind = [induction_score(w, period, start) for w in maps]
        ctrl = [induction_score(w, period - 1, start) for w in maps]        # wrong period: positional control
        return torch.stack(pt), torch.stack(ind), torch.stack(ctrl)

    def probe(model, step):
        _, maps = _forward(model, ev.tokens, maps=True)
        pt, ind, _ = scores(maps)
        return {"prev_token": _round(pt.tolist()), "induction": _round(ind.tolist())}

    res = _train(cfg, task, "head_specialisation", progress, threads, probe)
    model = res.model
    logits, maps = _forward(model, ev.tokens, maps=True)
    pt, ind, ctrl = scores(maps)
    # in-context accuracy: positions whose target lies in a repeated copy (predictable by induction)
    B, L = ev.tokens.shape
    pos = torch.arange(L)[None]
    predictable = (pos + 1 >= start[:, None] + period[:, None] + 1) & (ev.targets != IGNORE)
    first_copy = (pos + 1 < start[:, None] + period[:, None]) & (ev.targets != IGNORE)
    pred = logits.argmax(-1)
    nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ev.targets.reshape(-1), ignore_index=IGNORE,
                          reduction="none").reshape(B, L)
    best_pt, best_ind = _best(pt.tolist()), _best(ind.tolist())
    metrics = {
        "prev_token_score": pt.tolist(),
        "induction_score": ind.tolist(),
        "induction_control_score": ctrl.tolist(),
        "best_prev_token_head": best_pt,
        "best_induction_head": best_ind,
        "repeated_token_accuracy": float((pred == ev.targets)[predictable].double().mean()),
        "repeated_token_loss": float(nll[predictable].mean()),
        "first_copy_loss": float(nll[first_copy].mean()),
        "uniform_loss": math.log(task.vocab_size),
        "final_train_loss": res.history[-1]["loss"],
        "loss_curve": _loss_curve(res.history),
        "score_curve": [{"step": h["step"], "prev_token": h["prev_token"], "induction": h["induction"]}
                        for h in res.history],
        "n_params": model.n_params(),
        "train_wall_time_s": None,
    }
    metrics.pop("train_wall_time_s")
    # the example maps: sample 0, and the first sample whose period differs from it by >= 3
    i0 = 0
    i1 = next((i for i in range(1, B) if abs(int(period[i]) - int(period[i0])) >= 3), 1)
    lp, hp = best_pt["layer"], best_pt["head"]
    li, hi = best_ind["layer"], best_ind["head"]
    out_maps = {
        "prev_token_head": _map(maps[lp][i0, hp], "query position", "key position",
                                f"layer {lp} head {hp}, the clearest previous-token head; sample period "
                                f"{int(period[i0])}, copy starts at {int(start[i0])}", ev.tokens[i0]),
        "induction_head": _map(maps[li][i0, hi], "query position", "key position",
                               f"layer {li} head {hi}, the clearest induction head; period {int(period[i0])}, "
                               f"first copy starts at {int(start[i0])} (stripe at offset period − 1)",
                               ev.tokens[i0]),
        "induction_head_other_period": _map(maps[li][i1, hi], "query position", "key position",
                                            f"layer {li} head {hi} on a sample with period {int(period[i1])}, "
                                            f"first copy at {int(start[i1])}: the stripe moves with the content",
                                            ev.tokens[i1]),
        "prev_token_scores": _map(pt, "layer", "head", "previous-token score per head (mean A[i, i-1])"),
        "induction_scores": _map(ind, "layer", "head",
                                 "induction score per head (mean attention to the token after the earlier "
                                 "occurrence, second copy)"),
    }
    return metrics, out_maps


# ------------------------------------------------------------------------------------ 2/3. retrieval

def _span_masks(info, L: int, n_d: int):
    """Bool masks (B, L) of the needle span and of the distractor spans (3 tokens each)."""
    B = info["needle_start"].shape[0]
    pos = torch.arange(L)[None, :]
    needle = (pos >= info["needle_start"][:, None]) & (pos < info["needle_start"][:, None] + 3)
    distract = torch.zeros(B, L, dtype=torch.bool)
    for j in range(n_d):
        s = info["distractor_starts"][:, j:j + 1]
        distract |= (pos >= s) & (pos < s + 3)
    return needle, distract


@torch.no_grad()
def _answer_rows(model: TinyTransformer, tokens: torch.Tensor, chunk: int = 32):
    """Logits (B, L, V) and the answer position's attention rows of every layer, (B, layers, H, L); for
    differential attention also the rows of its two softmax maps A1 and A2 (else None)."""
    logits, rows, rows1, rows2 = [], [], [], []
    for i in range(0, tokens.shape[0], chunk):
        out = model(tokens[i:i + chunk], return_maps=True)
        logits.append(out.logits)
        rows.append(torch.stack([w[:, :, -1, :] for w in out.maps], dim=1))
        if "attn1" in out.aux[0]:
            rows1.append(torch.stack([a["attn1"][:, :, -1, :] for a in out.aux], dim=1))
            rows2.append(torch.stack([a["attn2"][:, :, -1, :] for a in out.aux], dim=1))
    return (torch.cat(logits), torch.cat(rows), torch.cat(rows1) if rows1 else None,
            torch.cat(rows2) if rows2 else None)


def _masses(rows: torch.Tensor, needle: torch.Tensor, distract: torch.Tensor) -> dict:
    """Mean over samples of the row mass on the needle span, the distractor spans, and the row total,
    per (layer, head): tables (layers, H). Raw sums of the map the model uses (a softmax row sums to 1;
    a differential row A1 − λ·A2 to 1 − λ and can hold negative entries)."""
    nm = span_mass(rows, needle[:, None, None, :]).mean(0)
    dm = span_mass(rows, distract[:, None, None, :]).mean(0)
    total = rows.sum(-1).mean(0)
    return {"needle": nm, "distractors": dm, "total": total}


def _retrieval_eval(model, task: NeedleHaystack, n: int, seed: int, want_mass: bool = True):
    """Accuracy of the answer at the last position; with ``want_mass`` also where the answer position
    attends: the retrieval (layer, head) = the one with the largest mean mass on the needle span, its
    needle / distractor / rest mass, and the full (layers × heads) tables."""
    ev = _eval_batch(task, n, seed)
    if not want_mass:
        logits, _ = _forward(model, ev.tokens)
        return {"accuracy": retrieval_accuracy(logits[:, -1], ev.info["answer"])}, ev, logits
    logits, rows, rows1, rows2 = _answer_rows(model, ev.tokens)
    out = {"accuracy": retrieval_accuracy(logits[:, -1], ev.info["answer"])}
    needle, distract = _span_masks(ev.info, ev.tokens.shape[1], task.n_distractors)
    m = _masses(rows, needle, distract)
    idx = int(m["needle"].argmax())
    layer, head = divmod(idx, m["needle"].shape[1])
    out.update({
        "retrieval_layer": layer, "retrieval_head": head,
        "needle_mass": float(m["needle"][layer, head]),
        "distractor_mass": float(m["distractors"][layer, head]),
        "rest_mass": float(m["total"][layer, head] - m["needle"][layer, head] - m["distractors"][layer, head]),
        "row_sum": float(m["total"][layer, head]),
        "needle_mass_table": m["needle"].tolist(),
        "distractor_mass_table": m["distractors"].tolist(),
    })
    if rows1 is not None:                                              # differential: the two softmax maps
        for key, r in (("A1", rows1), ("A2", rows2)):
            mk = _masses(r, needle, distract)
            out[f"{key}_needle_mass"] = float(mk["needle"][layer, head])
            out[f"{key}_distractor_mass"] = float(mk["distractors"][layer, head])
    return out, ev, logits


def _answer_row_maps(model, task: NeedleHaystack, e: dict, label: str, note: str = "") -> dict:
    """Maps of one short example: the answer position's attention row for every (layer, head), and for
    differential attention the rows of A1 and A2."""
    ex_task = task.with_(context_len=e["map_length"], depth=0.5, n_queries=1,
                         n_distractors=min(task.n_distractors, e["map_distractors"]))
    ex = _eval_batch(ex_task, 1, e["seed"] + 99)
    lg, rows, rows1, rows2 = _answer_rows(model, ex.tokens)
    s0 = int(ex.info["needle_start"][0])
    cap = (f"{e['map_length']}-token example: needle at {s0}..{s0 + 2} (value at {int(ex.info['needle_pos'][0])}), "
           f"distractors at {[int(x) for x in ex.info['distractor_starts'][0]]}; predicted "
           f"{int(lg[0, -1].argmax())}, answer {int(ex.info['answer'][0])}")
    n_layers, H = rows.shape[1], rows.shape[2]
    row_label = f"layer × head (row = layer·{H} + head, {n_layers} layers)"
    maps = {f"answer_row_{label}": _map(rows[0].reshape(n_layers * H, -1), row_label, "key position",
                                        f"{label}: answer-position attention{note}; {cap}", ex.tokens[0])}
    if rows1 is not None:
        maps[f"answer_row_{label}_A1"] = _map(rows1[0].reshape(n_layers * H, -1), row_label, "key position",
                                              f"{label}: first softmax map A1; {cap}", ex.tokens[0])
        maps[f"answer_row_{label}_A2"] = _map(rows2[0].reshape(n_layers * H, -1), row_label, "key position",
                                              f"{label}: second softmax map A2; {cap}", ex.tokens[0])
    return maps


def _filler_loss_by_position(logits: torch.Tensor, ev) -> list:
    """Mean next-token NLL of the filler (filler → filler transitions) at each position; None where unscored."""
    B, L, V = logits.shape
    nll = F.cross_entropy(logits.reshape(-1, V), ev.targets.reshape(-1), ignore_index=IGNORE,
                          reduction="none").reshape(B, L)
    m = ev.info["filler_mask"].double()
    cnt = m.sum(0)
    mean = (nll.double() * m).sum(0) / cnt.clamp(min=1)
    return [float(x) if c > 0 else None for x, c in zip(mean, cnt)]


def _rope_scaling(scheme: str, length: int, train_len: int):
    if scheme == "rope" or length <= train_len:
        return None
    factor = length / train_len
    if scheme == "rope_pi":
        return RopeScaling("linear", factor)                               # arXiv:2306.15595
    if scheme == "rope_yarn":
        return RopeScaling("yarn", factor, original_max_position=train_len)   # arXiv:2309.00071
    raise ValueError(f"unknown RoPE scheme {scheme!r}")


def _run_needle_haystack(cfg: dict, progress: bool, threads) -> tuple[dict, dict]:
    task = make_task(cfg["task"])
    e = cfg["eval"]
    train_len = task.context_len
    metrics = {"train_length": train_len, "lengths": e["lengths"], "depths": e["depths"], "schemes": {},
               "train": {}}
    out_maps = {}
    for pos_kind in cfg["positions"]:
        mcfg = dict(cfg, model=dict(cfg["model"], positions=pos_kind))
        res = _train(mcfg, task, f"needle[{pos_kind}]", progress, threads)
        model = res.model
        metrics["train"][pos_kind] = {"final_train_loss": res.history[-1]["loss"],
                                      "loss_curve": _loss_curve(res.history), "n_params": model.n_params()}
        schemes = [s for s in e["schemes"] if s == pos_kind or (pos_kind == "rope" and s.startswith("rope_"))]
        for scheme in schemes:
            grid, cells = [], []
            for length in e["lengths"]:
                if pos_kind == "rope":
                    model.set_rope_scaling(_rope_scaling(scheme, length, train_len))
                row, cell_row = [], []
                for k, depth in enumerate(e["depths"]):
                    t = task.with_(context_len=length, depth=depth, n_queries=1)
                    r, _, _ = _retrieval_eval(model, t, e["n_eval"], e["seed"] + 1000 * length + k)
                    row.append(r["accuracy"])
                    cell_row.append(r)
                grid.append(row)
                cells.append(cell_row)
            # filler loss by position at the longest length (random depths)
            lt = task.with_(context_len=e["loss_length"], depth=None, n_queries=1)
            if pos_kind == "rope":
                model.set_rope_scaling(_rope_scaling(scheme, e["loss_length"], train_len))
            ev = _eval_batch(lt, e["n_loss"], e["seed"] + 7)
            logits, _ = _forward(model, ev.tokens)
            lbp = _filler_loss_by_position(logits, ev)
            metrics["schemes"][scheme] = {
                "model": pos_kind,
                "accuracy": grid,                                              # [length][depth]
                "accuracy_by_length": [sum(r) / len(r) for r in grid],
                "needle_mass": [[c["needle_mass"] for c in r] for r in cells],        # retrieval head
                "distractor_mass": [[c["distractor_mass"] for c in r] for r in cells],
                "retrieval_layer_head": [[[c["retrieval_layer"], c["retrieval_head"]] for c in r] for r in cells],
                "loss_by_position": lbp,
            }
            if pos_kind == "rope":
                model.set_rope_scaling(None)
        # the answer position's attention rows (every layer and head) over a short example
        out_maps.update(_answer_row_maps(model, task, e, pos_kind))
    for scheme, m in metrics["schemes"].items():
        out_maps[f"accuracy_{scheme}"] = _map(m["accuracy"], "context length " + str(e["lengths"]),
                                              "needle depth " + str(e["depths"]),
                                              f"{scheme}: retrieval accuracy, trained at {train_len}")
    metrics["optimal_note"] = ("chance = 1/n_values for a random value, 1/(n_distractors+1) for a random "
                               "needle value")
    return metrics, out_maps


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


# ------------------------------------------------------------------------------------ 4. routing

def _run_routing_balance(cfg: dict, progress: bool, threads) -> tuple[dict, dict]:
    task = make_task(cfg["task"])
    e = cfg["eval"]
    ev = _eval_batch(task, e["n_eval"], e["seed"])
    n_exp = cfg["model"]["n_experts"]
    metrics, out_maps = {"runs": {}, "n_experts": n_exp, "top_k": cfg["model"]["top_k"]}, {}
    for alpha in cfg["aux_loss_coefs"]:
        label = f"alpha_{alpha:g}"
        tcfg = dict(cfg, train=dict(cfg["train"], aux_loss_coef=alpha))
        res = _train(tcfg, task, f"routing[{label}]", progress, threads)
        model = res.model
        hist = [h for h in res.history if "expert_load" in h]
        load_curve = [{"step": h["step"], "load": h["expert_load"],
                       "cv": [coefficient_of_variation(torch.tensor(x)) for x in h["expert_load"]]}
                      for h in hist]
        # final routing on a fixed eval batch
        with torch.no_grad():
            out = model(ev.tokens)
        final_load, final_cv, max_share, starved = [], [], [], []
        for a in out.aux:
            c = torch.bincount(a["expert_index"].reshape(-1), minlength=n_exp).double()
            share = c / c.sum()
            final_load.append(share.tolist())
            final_cv.append(coefficient_of_variation(c))
            max_share.append(float(share.max()))
            starved.append(int((share < 1.0 / (4 * n_exp)).sum()))
        logits = out.logits
        pos = torch.arange(ev.tokens.shape[1])[None]
        predictable = (pos + 1 >= ev.info["start"][:, None] + ev.info["period"][:, None] + 1) & (ev.targets != IGNORE)
        acc = float((logits.argmax(-1) == ev.targets)[predictable].double().mean())
        metrics["runs"][label] = {
            "aux_loss_coef": alpha,
            "final_load": final_load, "final_cv": final_cv, "max_expert_share": max_share,
            "starved_experts": starved,
            "mean_cv_over_training": [sum(x["cv"][layer] for x in load_curve) / len(load_curve)
                                      for layer in range(len(final_cv))],
            "load_curve": load_curve,
            "balancing_loss_curve": [[h["step"], h["aux_loss"]] for h in res.history if h["aux_loss"] is not None],
            "loss_curve": _loss_curve(res.history),
            "repeated_token_accuracy": acc,
            "final_train_loss": res.history[-1]["loss"],
        }
        # load over training of layer 0 as a (steps × experts) map; routing trace of one sample
        rows = [x["load"][0] for x in load_curve][-32:]
        k, every = cfg["model"]["top_k"], cfg["train"]["log_every"]
        out_maps[f"load_over_training_{label}"] = _map(
            torch.tensor(rows), "logged step (oldest first)", "expert",
            f"{label}: layer-0 share of top-{k} assignments per expert, every {every} steps")
        with torch.no_grad():
            o = model(ev.tokens[:1])
        probs = o.aux[0]["router_probs"][:32]
        out_maps[f"router_probs_{label}"] = _map(probs, "token position (sample 0)", "expert",
                                                 f"{label}: layer-0 router probabilities per token",
                                                 ev.tokens[0][:32])
    metrics["uniform_cv"] = 0.0
    metrics["collapsed_cv"] = math.sqrt(n_exp - 1)
    return metrics, out_maps


# ------------------------------------------------------------------------------------ 5. recall

def _run_recall_capacity(cfg: dict, progress: bool, threads) -> tuple[dict, dict]:
    task = make_task(cfg["task"])
    e = cfg["eval"]
    pairs = list(task.n_pairs) if isinstance(task.n_pairs, tuple) else [task.n_pairs]
    metrics = {"pairs": pairs, "models": {}}
    acc_rows, labels = [], []
    for label, key in (("softmax", "model_softmax"), ("linear", "model_linear")):
        mc = ModelConfig(**cfg[key])
        res = _train(cfg, task, f"recall[{label}]", progress, threads, key=key)
        model = res.model
        accs = []
        for k, n in enumerate(pairs):
            g = torch.Generator().manual_seed(e["seed"] + k)
            b = task.sample(e["n_eval"], g, n_pairs=n)
            logits, _ = _forward(model, b.tokens)
            m = b.info["query_mask"]
            accs.append(retrieval_accuracy(logits[m], b.targets[m]))
        hd = mc.d_model // mc.n_heads
        if mc.attention == "linear":
            state = [linear_attention_state_elems(hd, hd, mc.n_heads) for _ in pairs]
        else:
            state = [softmax_kv_cache_elems(2 * n + task.n_queries, hd, hd, mc.n_heads) for n in pairs]
        metrics["models"][label] = {"attention": mc.attention, "accuracy": accs,
                                    "state_elems_per_layer": state, "n_params": model.n_params(),
                                    "final_train_loss": res.history[-1]["loss"],
                                    "loss_curve": _loss_curve(res.history)}
        acc_rows.append(accs)
        labels.append(label)
    maps = {"accuracy": _map(torch.tensor(acc_rows), f"model {labels}", f"key-value pairs {pairs}",
                             "associative-recall accuracy (queries answered exactly)")}
    metrics["chance"] = 1.0 / task.n_values
    return metrics, maps


# ------------------------------------------------------------------------------------ registry

@dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    citations: tuple
    full: dict
    quick: dict
    run: Callable[[dict, bool, int | None], tuple[dict, dict]]


def _quick(full: dict, **over) -> dict:
    q = copy.deepcopy(full)
    for path, value in over.items():
        keys = path.split("__")
        d = q
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value
    return q


_HEAD_FULL = {
    "seed": 0,
    "model": ModelConfig(vocab_size=64, d_model=64, n_layers=2, n_heads=4, d_ff=0, attention="mha",
                         positions="rope").to_dict(),
    "task": RepeatedSequences(vocab_size=64, length=32, min_period=4, max_period=12, max_prefix=8).to_dict(),
    "train": TrainConfig(steps=800, batch_size=32, lr=1e-2, warmup=50, log_every=40, seed=0).to_dict(),
    "eval": {"n_eval": 256, "seed": 12345},
}

# Retrieval models get a one-token shift (token_shift=True): every position also sees its previous token,
# so finding "the value whose key is k" is one content match for attention. Without it the 2-layer model
# did not learn the key match within the CPU budget (prev-token K-composition; see docs/lab.md).
_NEEDLE_TASK = NeedleHaystack(context_len=64, depth=None, n_distractors=3, n_queries=1, filler="repeat",
                              min_period=8, max_period=16)
_NEEDLE_FULL = {
    "seed": 0,
    "model": ModelConfig(vocab_size=_NEEDLE_TASK.vocab_size, d_model=64, n_layers=2, n_heads=4, d_ff=256,
                         token_shift=True).to_dict(),
    "task": _NEEDLE_TASK.to_dict(),
    "train": TrainConfig(steps=800, batch_size=32, lr=3e-3, warmup=50, log_every=50, seed=0).to_dict(),
    "positions": ["rope", "nope", "alibi"],
    "eval": {"lengths": [64, 128, 256], "depths": [0.0, 0.25, 0.5, 0.75, 1.0], "n_eval": 100,
             "schemes": ["rope", "rope_pi", "rope_yarn", "nope", "alibi"], "loss_length": 256, "n_loss": 64,
             "map_length": 32, "map_distractors": 3, "seed": 2024},
}

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

_ROUTING_FULL = {
    "seed": 0,
    "model": ModelConfig(vocab_size=64, d_model=64, n_layers=2, n_heads=4, d_ff=0, attention="moa",
                         positions="sinusoidal", n_experts=8, top_k=2, expert_head_dim=16,
                         token_shift=True).to_dict(),
    "task": RepeatedSequences(vocab_size=64, length=32, min_period=4, max_period=12, max_prefix=8).to_dict(),
    "train": TrainConfig(steps=600, batch_size=32, lr=1e-2, warmup=50, log_every=20, seed=0).to_dict(),
    "aux_loss_coefs": [0.0, 0.01, 0.1],
    "eval": {"n_eval": 256, "seed": 777},
}

_RECALL_TASK = AssociativeRecall(n_pairs=(4, 8, 16, 32, 64), n_queries=16, n_keys=128, n_values=64)
_RECALL_FULL = {
    "seed": 0,
    "model_softmax": ModelConfig(vocab_size=_RECALL_TASK.vocab_size, d_model=64, n_layers=2, n_heads=4, d_ff=128,
                                 attention="mha", positions="nope", token_shift=True).to_dict(),
    "model_linear": ModelConfig(vocab_size=_RECALL_TASK.vocab_size, d_model=64, n_layers=2, n_heads=4, d_ff=128,
                                attention="linear", positions="nope", token_shift=True).to_dict(),
    "task": _RECALL_TASK.to_dict(),
    "train": TrainConfig(steps=1000, batch_size=32, lr=3e-3, warmup=50, log_every=50, seed=0).to_dict(),
    "eval": {"n_eval": 256, "seed": 999},
}

_SMALL = {"d_model": 16, "d_ff": 16}


def _small(cfg: dict, *keys: str, **model_over) -> dict:
    for k in keys:
        cfg[k] = dict(cfg[k], **_SMALL, **model_over)
    return cfg


EXPERIMENTS: dict[str, Experiment] = {
    e.name: e for e in (
        Experiment("head_specialisation",
                   "2-layer attention-only transformer on repeated random sequences: previous-token heads "
                   "(layer 0) and induction heads (layer 1) emerge; scores per head and per logged step.",
                   ({"paper": "Olsson et al. 2022, In-context Learning and Induction Heads", "arxiv": "2209.11895"},
                    {"paper": "Elhage et al. 2021, A Mathematical Framework for Transformer Circuits",
                     "arxiv": "none (transformer-circuits.pub/2021/framework)"}),
                   _HEAD_FULL,
                   _small(_quick(_HEAD_FULL, train__steps=6, train__log_every=3, eval__n_eval=8), "model"),
                   _run_head_specialisation),
        Experiment("needle_haystack",
                   "Needle retrieval with distractors over context length x depth, trained at 64 tokens and "
                   "evaluated at 64/128/256 for RoPE, RoPE + position interpolation, RoPE + YaRN, NoPE, ALiBi; "
                   "filler loss by position at 256.",
                   ({"paper": "Kamradt 2023, Needle In A Haystack (gkamradt/LLMTest_NeedleInAHaystack)",
                     "arxiv": "none"},
                    {"paper": "Hsieh et al. 2024, RULER", "arxiv": "2404.06654"},
                    {"paper": "Su et al. 2021, RoFormer (RoPE)", "arxiv": "2104.09864"},
                    {"paper": "Chen et al. 2023, Position Interpolation", "arxiv": "2306.15595"},
                    {"paper": "Peng et al. 2023, YaRN", "arxiv": "2309.00071"},
                    {"paper": "Press et al. 2021, ALiBi", "arxiv": "2108.12409"},
                    {"paper": "Kazemnejad et al. 2023, NoPE length generalisation", "arxiv": "2305.19466"}),
                   _NEEDLE_FULL,
                   _small(_quick(_NEEDLE_FULL, train__steps=4, train__log_every=2, eval__lengths=[64, 96],
                                 eval__depths=[0.0, 1.0], eval__n_eval=4, eval__loss_length=96, eval__n_loss=4),
                          "model"),
                   _run_needle_haystack),
        Experiment("attention_noise",
                   "Standard vs differential attention (same parameter budget: 4 heads vs 2 differential heads) on "
                   "needle retrieval with 6 distractors: accuracy and the answer position's attention mass on the "
                   "needle vs the distractors; lambda per layer over training.",
                   ({"paper": "Ye et al. 2024, Differential Transformer", "arxiv": "2410.05258"},),
                   _NOISE_FULL,
                   _small(_quick(_NOISE_FULL, train__steps=4, train__log_every=2, eval__n_eval=8,
                                 eval__n_eval_depth=4, eval__depths=[0.0, 1.0]),
                          "model_standard", "model_differential"),
                   _run_attention_noise),
        Experiment("routing_balance",
                   "Mixture-of-attention-heads (8 experts, top-2) trained without the Switch load-balancing loss "
                   "and with it (alpha = 0.01, 0.1): expert load over training, its coefficient of variation, "
                   "collapse onto few experts.",
                   ({"paper": "Fedus et al. 2021, Switch Transformers", "arxiv": "2101.03961"},
                    {"paper": "Zhang et al. 2022, Mixture of Attention Heads", "arxiv": "2210.05144"},
                    {"paper": "Shazeer et al. 2017, Outrageously Large Neural Networks", "arxiv": "1701.06538"}),
                   _ROUTING_FULL,
                   _small(_quick(_ROUTING_FULL, train__steps=6, train__log_every=2, eval__n_eval=8), "model",
                          expert_head_dim=8),
                   _run_routing_balance),
        Experiment("recall_capacity",
                   "Softmax vs linear attention on multi-query associative recall as the number of key-value "
                   "pairs grows; the linear model's state is fixed (H·(d_h²+d_h) per layer) while the softmax KV "
                   "cache grows with the sequence.",
                   ({"paper": "Arora et al. 2023, Zoology", "arxiv": "2312.04927"},
                    {"paper": "Katharopoulos et al. 2020, Transformers are RNNs", "arxiv": "2006.16236"}),
                   _RECALL_FULL,
                   _small(_quick(_RECALL_FULL, train__steps=4, train__log_every=2, eval__n_eval=8,
                                 task__n_pairs=[4, 8]), "model_softmax", "model_linear"),
                   _run_recall_capacity),
    )
}


def list_experiments() -> list[str]:
    return list(EXPERIMENTS)


def experiment_config(name: str, quick: bool = False) -> dict:
    """A copy of the configuration of experiment ``name`` (full or quick)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; expected one of {list_experiments()}")
    e = EXPERIMENTS[name]
    return copy.deepcopy(e.quick if quick else e.full)


def run_experiment(name: str, quick: bool = False, *, progress: bool = False, threads: int | None = None,
                   write: bool = False, path: str | Path | None = None, command: str | None = None,
                   checkpoint_dir: str | Path | None = None) -> dict:
    """Run experiment ``name`` and return its validated result dict.

    ``quick``: the shortened configuration. ``threads``: override the configured intra-op thread count
    (recorded in the provenance; results are identical for 1 and 2 threads). ``write``: write the JSON to
    ``path`` (default :func:`attn_ref.lab.result_path` for full runs; a quick run needs an explicit path).
    ``checkpoint_dir``: checkpoint every model's training there (every 100 steps); rerunning after an
    interruption resumes each training and gives the same result.
    """
    cfg = experiment_config(name, quick)
    exp = EXPERIMENTS[name]
    if write and path is None:
        if quick:
            raise ValueError("a quick run is not written to the committed result path; pass path=")
        path = result_path(name)
    t0 = time.perf_counter()
    if checkpoint_dir is not None:
        Path(checkpoint_dir).mkdir(parents=True, exist_ok=True)
    _CHECKPOINTS["dir"] = None if checkpoint_dir is None else str(Path(checkpoint_dir) / name)
    if checkpoint_dir is not None:
        Path(_CHECKPOINTS["dir"]).mkdir(parents=True, exist_ok=True)
    try:
        metrics, maps = exp.run(cfg, progress, threads)
    finally:
        _CHECKPOINTS["dir"] = None
    wall = time.perf_counter() - t0
    n_threads = threads if threads is not None else cfg["train"]["threads"]
    result = {
        "schema": SCHEMA,
        "name": name,
        "description": exp.description,
        "quick": quick,
        "seed": cfg["seed"],
        "config": cfg,
        "metrics": _round(metrics),
        "maps": maps,
        "citations": [dict(c) for c in exp.citations],
        "provenance": provenance(n_threads, wall, command),
    }
    validate_result(result, f"experiment {name}")
    if write:
        write_result(result, path)
    return result
