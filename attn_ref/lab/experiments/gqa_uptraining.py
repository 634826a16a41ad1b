"""Converting a pre-trained MHA model to GQA / MQA and uptraining it (Ainslie et al. 2023, arXiv:2305.13245).

An 8-head MHA model is pre-trained on multi-query associative recall (MQAR, 8 or 16 key-value pairs, 16
queries), three times with different seeds. Each is converted to G = 2 KV heads (GQA) and G = 1 (MQA) three
ways with :func:`attn_ref.mha_to_gqa`: mean-pooling the K and V projection heads of each group (the paper's
method), keeping the first head of each group, or drawing the K/V projections afresh. Every converted model
is uptrained with the pre-training recipe (fresh AdamW, constant learning rate after a 5-step warm-up, new
batches) and evaluated on a fixed set at several uptraining steps. References: the MHA model itself, and
GQA / MQA models trained from scratch for pre-training + uptraining steps (first seed). Mechanism: the
attention mass each layer-0 head puts on the value of the queried pair, before and right after conversion.
"""
from __future__ import annotations

import math
from dataclasses import replace

import torch
import torch.nn.functional as F

from ...kv_cache import kv_cache_bytes
from ...multihead import mha_to_gqa
from ..model import ModelConfig, TinyTransformer
from ..tasks import AssociativeRecall, make_task
from ..trainer import TrainConfig
from ._common import Experiment, _map, _quick, _train_model

__all__ = ["convert_to_gqa"]

_METHODS = ("mean", "first", "random")
_TASK = AssociativeRecall(n_pairs=(8, 16), n_queries=16, n_keys=128, n_values=64)
_GQA_FULL = {
    "seed": 0,
    "seeds": [0, 1, 2],               # pre-training seeds (weights and batches); the first also gets the baselines
    "model": ModelConfig(vocab_size=_TASK.vocab_size, d_model=64, n_layers=2, n_heads=8, d_ff=128, attention="mha",
                         positions="nope", token_shift=True).to_dict(),
    "task": _TASK.to_dict(),
    # pre-training recipe (seed replaced per run); the from-scratch baselines use it for steps + uptrain steps
    "train": TrainConfig(steps=800, batch_size=32, lr=3e-3, warmup=50, log_every=100, seed=0).to_dict(),
    # uptraining: the pre-training recipe with these fields replaced (constant lr after a short warm-up);
    # its batches come from seed + seed_offset, not the pre-training stream
    "uptrain": {"steps": 200, "warmup": 5, "min_lr_ratio": 1.0, "log_every": 10, "seed_offset": 100},
    "eval_steps": [0, 10, 20, 40, 80, 120, 160, 200],
    "kv_heads": [2, 1],
    "methods": list(_METHODS),
    "conversion_seed_offset": 1,      # random K/V from torch.Generator().manual_seed(seed + offset)
    "scratch_baseline": True,
    "kv_bytes_per_elem": 4,           # float32, what these models use
    "eval": {"n_eval": 256, "seed": 999, "map_pairs": 8},
}


# ------------------------------------------------------------------------------------ conversion

@torch.no_grad()
def convert_to_gqa(model: TinyTransformer, n_kv_heads: int, method: str = "mean",
                   generator: torch.Generator | None = None) -> TinyTransformer:
    """A new :class:`TinyTransformer` whose attention layers are ``model``'s converted to ``n_kv_heads``
    K/V heads by :func:`attn_ref.mha_to_gqa` (``method`` = ``"mean"``, ``"first"`` or ``"random"``; the
    random K/V come from ``generator``, layer by layer). Every other weight is copied. The config becomes
    ``attention="gqa"`` (or stays ``model``'s when ``n_kv_heads`` equals its K/V head count: the copy then
    computes the same logits for "mean" and "first"). The global RNG is left untouched; eval mode.
    """
    if not isinstance(model, TinyTransformer):
        raise TypeError(f"model must be a TinyTransformer, got {type(model).__name__}")
    mc = model.config
    if mc.attention not in ("mha", "gqa"):
        raise ValueError(f"convert_to_gqa needs attention 'mha' or 'gqa', got {mc.attention!r}")
    old_kv = mc.n_kv_heads or mc.n_heads
    if n_kv_heads == old_kv:
        nc = mc
    else:
        nc = replace(mc, attention="gqa", n_kv_heads=n_kv_heads)    # validates n_kv_heads
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    with torch.random.fork_rng(devices=[]):                          # module construction draws weights
        for i, block in enumerate(model.blocks):
            new = mha_to_gqa(block.attn, n_kv_heads, method, generator)
            for name in ("k_proj", "v_proj"):
                state[f"blocks.{i}.attn.{name}.weight"] = getattr(new, name).weight.detach().clone()
        out = TinyTransformer(nc)
    out.load_state_dict(state)
    return out.eval()


# ------------------------------------------------------------------------------------ evaluation

def _eval_sets(task: AssociativeRecall, e: dict) -> list:
    """The fixed evaluation set: equally many sequences for each number of pairs, as (tokens, targets,
    query mask) batches."""
    pairs = list(task.n_pairs) if isinstance(task.n_pairs, tuple) else [task.n_pairs]
    out = []
    for k, n in enumerate(pairs):
        b = task.sample(max(1, e["n_eval"] // len(pairs)), torch.Generator().manual_seed(e["seed"] + k), n_pairs=n)
        out.append((b.tokens, b.targets, b.info["query_mask"]))
    return out


@torch.no_grad()
def _quality(model: TinyTransformer, sets: list) -> dict:
    """Mean NLL (nats) and accuracy over every query of the evaluation set."""
    nll, hits, n = 0.0, 0, 0
    for tokens, targets, scored in sets:
        lg = torch.cat([model(tokens[i:i + 64]).logits for i in range(0, tokens.shape[0], 64)])
        lg, tg = lg[scored], targets[scored]
        nll += float(F.cross_entropy(lg.double(), tg, reduction="sum"))
        hits += int((lg.argmax(-1) == tg).sum())
        n += int(tg.numel())
    return {"loss": nll / n, "accuracy": hits / n}


def _value_positions(tokens: torch.Tensor, n_pairs: int) -> torch.Tensor:
    """(B, M) index of the value token of the pair each query asks for (``k1 v1 … kN vN q1 … qM``)."""
    keys, queries = tokens[:, 0:2 * n_pairs:2], tokens[:, 2 * n_pairs:]
    pair = (queries[:, :, None] == keys[:, None, :]).long().argmax(-1)
    return 2 * pair + 1


@torch.no_grad()
def _retrieval_mass(model: TinyTransformer, tokens: torch.Tensor, n_pairs: int) -> torch.Tensor:
    """(layers, heads): mean over sequences and queries of the attention from a query to the value token of
    its pair (with the token shift that position also carries the pair's key: it is where retrieval looks)."""
    vpos = _value_positions(tokens, n_pairs)
    maps = model(tokens, return_maps=True).maps
    out = []
    for w in maps:                                                    # (B, H, L, L)
        rows = w[:, :, 2 * n_pairs:, :]                               # the query rows
        idx = vpos[:, None, :, None].expand(-1, w.shape[1], -1, 1)
        out.append(rows.gather(3, idx).squeeze(-1).mean((0, 2)))
    return torch.stack(out)


def _kv_similarity(model: TinyTransformer, n_kv_heads: int) -> dict:
    """Mean |cosine| between the flattened K (and V) projection heads that share a group, per layer:
    how alike the heads are that mean-pooling averages (0 = orthogonal, 1 = identical up to sign)."""
    out = {"k": [], "v": []}
    for block in model.blocks:
        a = block.attn
        G = a.n_kv_heads // n_kv_heads
        for key, proj in (("k", a.k_proj), ("v", a.v_proj)):
            w = proj.weight.detach().double().view(n_kv_heads, G, a.head_dim * a.d_model)
            w = w / w.norm(dim=-1, keepdim=True)
            cos = (w @ w.transpose(1, 2)).abs()                       # (groups, G, G)
            off = ~torch.eye(G, dtype=torch.bool).expand_as(cos)
            out[key].append(float(cos[off].mean()) if G > 1 else 1.0)
    return out


# ------------------------------------------------------------------------------------ the run

def _stats(rows: list) -> dict:
    t = torch.tensor(rows, dtype=torch.float64)                       # (seeds, steps)
    return {"mean": t.mean(0).tolist(), "min": t.min(0).values.tolist(), "max": t.max(0).values.tolist()}


def _run_gqa_uptraining(cfg: dict, progress: bool, threads) -> tuple[dict, dict]:
    up_over = dict(cfg["uptrain"])
    offset = up_over.pop("seed_offset")
    eval_steps = list(cfg["eval_steps"])
    if eval_steps[0] != 0 or eval_steps[-1] != up_over["steps"] or any(s % up_over["log_every"] for s in eval_steps):
        raise ValueError("eval_steps must start at 0, end at uptrain.steps and be multiples of uptrain.log_every")
    task = make_task(cfg["task"])
    mc = ModelConfig(**cfg["model"])
    sets = _eval_sets(task, cfg["eval"])
    n_map = cfg["eval"]["map_pairs"]
    probe_tokens = task.sample(64, torch.Generator().manual_seed(cfg["eval"]["seed"] + 100), n_pairs=n_map).tokens
    pre_steps, seeds, methods, kv_heads = cfg["train"]["steps"], cfg["seeds"], cfg["methods"], cfg["kv_heads"]
    hd, n_layers, bpe = mc.head_dim, mc.n_layers, cfg["kv_bytes_per_elem"]

    def curve_probe(model, step):
        return {"eval": _quality(model, sets)}

    def curve(history):
        return [[h["step"], h["eval"]["loss"], h["eval"]["accuracy"]] for h in history]

    mha_m = {"n_kv_heads": mc.n_heads, "kv_cache_bytes_per_token": kv_cache_bytes(n_layers, mc.n_heads, hd, 1,
                                                                                   bytes_per_elem=bpe),
             "accuracy": [], "loss": [], "final_train_loss": [], "curve": []}
    conv_m = {f"kv{G}": {"n_kv_heads": G, "kv_cache_bytes_per_token": kv_cache_bytes(n_layers, G, hd, 1,
                                                                                      bytes_per_elem=bpe),
                         "kv_weight_similarity": [], "methods": {m: {"accuracy": [], "loss": []} for m in methods}}
              for G in kv_heads}
    ranking = {f"kv{G}": [] for G in kv_heads}
    retrieval, maps, scratch = {}, {}, {}
    for si, seed in enumerate(seeds):
        pre_tc = TrainConfig(**dict(cfg["train"], seed=seed))
        up_tc = TrainConfig(**dict(cfg["train"], **up_over, seed=seed + offset))
        res = _train_model(mc, pre_tc, task, f"gqa[mha][seed{seed}]", progress, threads, curve_probe)
        mha = res.model
        mha_m["n_params"] = mha.n_params()
        q = _quality(mha, sets)
        mha_m["accuracy"].append(q["accuracy"])
        mha_m["loss"].append(q["loss"])
        mha_m["final_train_loss"].append(res.history[-1]["loss"])
        mha_m["curve"].append(curve(res.history))
        if si == 0:
            retrieval["mha"] = _retrieval_mass(mha, probe_tokens, n_map).tolist()
        for G in kv_heads:
            key = f"kv{G}"
            conv_m[key]["kv_weight_similarity"].append(_kv_similarity(mha, G))
            finals = {}
            for method in methods:
                gen = torch.Generator().manual_seed(seed + cfg["conversion_seed_offset"])
                conv = convert_to_gqa(mha, G, method, gen)
                conv_m[key]["n_params"] = conv.n_params()
                got: dict = {}

                def probe(model, step, _got=got):
                    if step in eval_steps:
                        _got[step] = _quality(model, sets)
                    return {}

                init = {k: v.clone() for k, v in conv.state_dict().items()}
                up = _train_model(conv.config, up_tc, task, f"gqa[{key}][{method}][seed{seed}]", progress,
                                  threads, probe, init)
                rec = conv_m[key]["methods"][method]
                rec["accuracy"].append([got[s]["accuracy"] for s in eval_steps])
                rec["loss"].append([got[s]["loss"] for s in eval_steps])
                finals[method] = rec["accuracy"][-1]
                if si == 0 and kv_heads[0] == G:
                    retrieval[f"{key}_{method}_0_steps"] = _retrieval_mass(conv, probe_tokens, n_map).tolist()
                    maps.update(_example_maps(mha, conv, up.model, probe_tokens, n_map, method, G, eval_steps[-1]))
            ranking[key].append([sorted(methods, key=lambda m, i=i: -finals[m][i]) for i in range(len(eval_steps))])
            if si == 0 and cfg["scratch_baseline"]:
                total = pre_steps + up_over["steps"]
                sc = _train_model(conv.config, TrainConfig(**dict(cfg["train"], seed=seed, steps=total)), task,
                                  f"gqa[{key}][scratch][seed{seed}]", progress, threads, curve_probe)
                scratch[key] = dict(_quality(sc.model, sets), steps=total, seed=seed, curve=curve(sc.history),
                                    final_train_loss=sc.history[-1]["loss"])
    mha_m["accuracy_mean"] = sum(mha_m["accuracy"]) / len(seeds)
    mha_m["loss_mean"] = sum(mha_m["loss"]) / len(seeds)
    acc_rows, loss_rows, seed_rows, labels, seed_labels = [], [], [], [], []
    for G in kv_heads:
        for method in methods:
            rec = conv_m[f"kv{G}"]["methods"][method]
            rec["accuracy_stats"], rec["loss_stats"] = _stats(rec["accuracy"]), _stats(rec["loss"])
            acc_rows.append(rec["accuracy_stats"]["mean"])
            loss_rows.append(rec["loss_stats"]["mean"])
            labels.append(f"G={G} {method}")
            for seed, row in zip(seeds, rec["accuracy"]):
                seed_rows.append(row)
                seed_labels.append(f"G={G} {method} seed {seed}")
    mean_rank = {f"kv{G}": [sorted(methods, key=lambda m, i=i, G=G: -conv_m[f"kv{G}"]["methods"][m]
                                   ["accuracy_stats"]["mean"][i]) for i in range(len(eval_steps))] for G in kv_heads}
    metrics = {
        "eval_steps": eval_steps, "alpha": [s / pre_steps for s in eval_steps], "pretrain_steps": pre_steps,
        "seeds": seeds, "mha": mha_m, "converted": conv_m, "scratch": scratch,
        "ranking_by_seed": ranking, "ranking_of_means": mean_rank, "retrieval_mass": retrieval,
        "chance_accuracy": 1.0 / task.n_values, "uniform_value_loss": math.log(task.n_values),
    }
    cols = f"uptraining steps {eval_steps} (pre-training {pre_steps} steps)"
    ref = f"MHA reference {mha_m['accuracy_mean']:.3f}"
    maps["accuracy"] = _map(torch.tensor(acc_rows), f"conversion {labels}", cols,
                            f"MQAR accuracy of the converted model against uptraining steps, mean over seeds "
                            f"{seeds}; {ref}")
    maps["loss"] = _map(torch.tensor(loss_rows), f"conversion {labels}", cols,
                        f"MQAR loss (nats) against uptraining steps, mean over seeds {seeds}; MHA reference "
                        f"{mha_m['loss_mean']:.3f}")
    maps["accuracy_by_seed"] = _map(torch.tensor(seed_rows), f"conversion {seed_labels}", cols,
                                    f"MQAR accuracy against uptraining steps, every seed; {ref}")
    for name, table in retrieval.items():
        maps[f"retrieval_mass_{name}"] = _map(torch.tensor(table), "layer", "head",
                                              f"attention from each query to its pair's value token, {name} "
                                              f"(seed {seeds[0]}, {n_map} pairs)")
    return metrics, maps


@torch.no_grad()
def _example_maps(mha, conv, up, tokens, n_pairs: int, method: str, G: int, up_steps: int) -> dict:
    """Layer 0's best retrieval head of the MHA model on one sequence; the same head right after conversion
    with ``method`` (and, for "mean", after uptraining)."""
    h = int(_retrieval_mass(mha, tokens, n_pairs)[0].argmax())
    first = h % (mha.config.n_heads // G) == 0
    x = tokens[:1]
    cap = (f"layer 0 head {h} ({'the first' if first else 'not the first'} head of its group of "
           f"{mha.config.n_heads // G}), {n_pairs} pairs then 16 queries")
    models = [("mha", mha, "MHA")] if method == _METHODS[0] else []
    models.append((f"{method}_0_steps", conv, f"{method} conversion to G={G}, 0 steps"))
    if method == "mean":
        models.append((f"{method}_{up_steps}_steps", up, f"mean conversion to G={G}, uptrained {up_steps} steps"))
    return {f"head_{key}": _map(m(x, return_maps=True).maps[0][0, h], "query position", "key position",
                                f"{cap}; {what}", x[0]) for key, m, what in models}


def _quick_cfg() -> dict:
    q = _quick(_GQA_FULL, seeds=[0], train__steps=4, train__log_every=2, train__warmup=2, uptrain__steps=4,
               uptrain__log_every=2, uptrain__warmup=1, eval_steps=[0, 2, 4], eval__n_eval=8, kv_heads=[2])
    q["model"] = dict(q["model"], d_model=16, d_ff=16)
    return q


EXPERIMENT = Experiment("gqa_uptraining",
                        "MHA → GQA (2 KV heads) and MQA (1) conversion of a pre-trained 8-head model on associative "
                        "recall by mean-pooling, first-head or random K/V initialisation, then uptraining: quality "
                        "against uptraining steps over three seeds, the MHA reference, from-scratch GQA/MQA "
                        "baselines, the retrieval heads' attention and the KV cache per token.",
                        ({"paper": "Ainslie et al. 2023, GQA: Training Generalized Multi-Query Transformer "
                                   "Models from Multi-Head Checkpoints", "arxiv": "2305.13245"},
                         {"paper": "Shazeer 2019, Fast Transformer Decoding: One Write-Head is All You Need",
                          "arxiv": "1911.02150"}),
                        _GQA_FULL,
                        _quick_cfg(),
                        _run_gqa_uptraining)
