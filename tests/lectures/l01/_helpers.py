"""What several Lecture 1 topic tests share: tensors from builder tuples, rounded rows, the scene package,
and the check that a scene file types none of the data's numbers."""
from __future__ import annotations

import ast
from pathlib import Path

import torch

from scenes.kit.format import shown
from scenes.l01_fundamentals import data as d

PKG = Path(__file__).resolve().parents[3] / "scenes" / "l01_fundamentals"
T = d.as_tensor


def batched(x):
    return T(x)[None, None]


def assert_rows_sum_to_one_shown(rows):
    """Rounded rows have two decimals exactly and add up to 1.00."""
    r = T(rows)
    assert torch.allclose(r.sum(-1), torch.ones(r.shape[:-1], dtype=torch.float64), atol=1e-12, rtol=0)
    assert torch.allclose(r * 100, torch.round(r * 100), atol=1e-9, rtol=0)


def assert_scene_constructs(cls: str) -> None:
    """Scene ``cls`` runs end to end with no layout finding (``scene_checks.assert_scene_constructs``)."""
    from scene_checks import assert_scene_constructs as check
    check("01", cls)


def assert_one_topic_section(file: str, topic: str) -> None:
    """The scene file opens exactly one section, named as the manifest names ``topic``."""
    from scene_checks import assert_one_topic_section as check
    check("01", file, topic)


def typed_data_numbers(file: str) -> list:
    """The distinctive numbers of L01.4–L01.6 typed into ``file``, as a number literal or inside a string
    (layout constants such as 0.25 are fine): they must come from the data module."""
    sd, w, sw = d.soft_dictionary(), d.dot_product_walkthrough(), d.softmax_walkthrough()
    dv, sa, st = d.dot_product_variance(), d.saturation(), d.stable_softmax_demo()
    values = {sd.blended_value, *sd.scores, w.score_shown, *w.products_shown, *sw.scores, dv.measured[0],
              dv.measured[-1], sa.max_weight_unscaled[-1], sa.jacobian_norm_unscaled[-1], st.overflow_threshold,
              *st.scores}
    texts = {shown(v, 2) for v in values} | {shown(v, 2).replace("\u2212", "-") for v in values}
    texts = {t for t in texts if t not in ("0.00", "1.00")}
    rounded = ({round(v, 2) for v in values if round(abs(v) * 100) % 10}  # two significant decimals: 3.41
               | {float(v) for v in values if abs(v) >= 100} | {float(dv.samples)})  # 1000, 20000
    tree = ast.parse((PKG / file).read_text(encoding="utf-8"))
    leaked = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            if round(float(node.value), 2) in rounded and abs(node.value) >= 0.2 and node.value not in (1, 2, 3):
                leaked.append(node.value)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            leaked += [t for t in texts if t in node.value]
    return leaked
