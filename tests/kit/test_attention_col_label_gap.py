"""AttentionGrid(col_label_gap=...): neighbouring column labels keep a clear gap; the default is unchanged."""
from itertools import pairwise

import numpy as np
import torch

from scenes.kit.mobjects import AttentionGrid

IDS = ["3", "17", "42", "8", "25", "5", "16"]


def _grid(**kw) -> AttentionGrid:
    w = torch.tril(torch.ones(7, 7, dtype=torch.float64))
    w = w / w.sum(dim=1, keepdim=True)
    return AttentionGrid(w, IDS, IDS, heat=True, show_numbers=False, show_dots=False, cell_size=0.5,
                         caption=None, axis_titles=False, **kw)


def _gaps(g: AttentionGrid) -> list[float]:
    labs = list(g.col_labels)
    return [b.get_left()[0] - a.get_right()[0] for a, b in pairwise(labs)]


def test_col_label_gap_keeps_labels_apart():
    g = _grid(col_label_gap=0.16)
    assert not g.col_labels_rotated
    assert min(_gaps(g)) >= 0.16 - 1e-6
    for j, lab in enumerate(g.col_labels):  # still centred over their columns, on one baseline
        assert np.isclose(lab.get_x(), g.cells[0][j].get_x())
        assert lab.get_bottom()[1] > g.cells[0][j].get_top()[1]
    assert np.allclose([lab.height for lab in g.row_labels], [lab.height for lab in _grid().row_labels])


def test_col_label_gap_default_unchanged():
    a, b = _grid(), _grid(col_label_gap=None)
    assert np.allclose([lab.width for lab in a.col_labels], [lab.width for lab in b.col_labels])
    assert min(_gaps(a)) < 0.16  # the crowding the parameter exists for
    assert a.with_values(a.displayed)._config.get("col_label_gap") is None
