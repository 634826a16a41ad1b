"""Retrieval evaluation shared by ``needle_haystack`` and ``attention_noise``: the answer position's
attention rows, the mass on the needle vs the distractors, accuracy."""
from __future__ import annotations

import torch

from ..model import TinyTransformer
from ..scores import retrieval_accuracy, span_mass
from ..tasks import NeedleHaystack
from ._common import (
    _eval_batch,
    _forward,
    _map,
)

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
    if not model.config.has_maps:
        raise ValueError(f"the answer rows need attention maps; attention={model.config.attention!r} has none")
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
