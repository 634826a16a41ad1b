"""L02.5 Pattern specialisation: the lab's trained 2-layer attention-only model on repeated random sequences
(results/experiments/head_specialisation.json): the layer × head score grids, the clearest previous-token and
induction heads' maps, the phase change, and the positional control. Trained weights only: nothing here
comes from random weights."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from attn_ref.lab import induction_score, load_result, previous_token_score
from scenes.kit.data_builders import builder
from scenes.kit.references import MICHEL, VOITA

from ._shared import Mat, Vec, lab_source

EXPERIMENT = "head_specialisation"


def _repeat(tokens: list[int]) -> tuple[int, int]:
    """(period P, start a) of a repeated sequence: the smallest P, then the smallest a, with
    tokens[i] == tokens[i − P] for every i ≥ a + P."""
    L = len(tokens)
    for p in range(1, L // 2 + 1):
        for a in range(0, L - 2 * p + 1):
            if tokens[a + p:] == tokens[a:L - p]:
                return p, a
    raise ValueError(f"no repeat in tokens {tokens}")


@dataclass(frozen=True)
class ScoreGrid:
    """Per layer × head scores, averaged over the evaluation set, and the best heads."""
    n_layers: int
    n_heads: int
    prev_token: Mat           # (layer, head): mean A[i, i − 1]
    induction: Mat            # mean A[i, i − P + 1] on the second copy
    induction_control: Mat    # the same with the wrong period P − 1 (positional control)
    best_prev_token: tuple[int, int, float]   # (layer, head, score)
    best_induction: tuple[int, int, float]
    repeated_token_accuracy: float
    first_copy_loss: float
    repeated_token_loss: float
    uniform_loss: float
    n_params: int
    source: str


@builder("L02.5")
def score_grid() -> ScoreGrid:
    """The layer × head heat maps of previous-token and induction scores (trained model, lab result)."""
    r = load_result(EXPERIMENT)
    m, cfg = r["metrics"], r["config"]["model"]
    grid = lambda key: tuple(tuple(row) for row in m[key])  # noqa: E731
    bp, bi = m["best_prev_token_head"], m["best_induction_head"]
    return ScoreGrid(cfg["n_layers"], cfg["n_heads"], grid("prev_token_score"), grid("induction_score"),
                     grid("induction_control_score"), (bp["layer"], bp["head"], bp["score"]),
                     (bi["layer"], bi["head"], bi["score"]), m["repeated_token_accuracy"], m["first_copy_loss"],
                     m["repeated_token_loss"], m["uniform_loss"], m["n_params"], lab_source(r))


@dataclass(frozen=True)
class HeadMap:
    name: str
    caption: str
    values: Mat               # (L, L) attention map of one sample (rows = queries), 4 decimals
    tokens: tuple[int, ...]
    period: int               # of the sample, from its tokens
    start: int                # first copy starts here
    sample_prev_score: float  # attn_ref.lab.previous_token_score of this map
    sample_induction_score: float   # attn_ref.lab.induction_score of this map (second copy)


@dataclass(frozen=True)
class HeadMaps:
    prev_token_head: HeadMap      # layer 0: a bright sub-diagonal
    induction_head: HeadMap       # layer 1: a stripe at offset period − 1
    induction_other_period: HeadMap   # same head, another period: the stripe moves with the content
    source: str


def _map(r: dict, key: str) -> HeadMap:
    mp = r["maps"][key]
    a = torch.tensor(mp["values"], dtype=torch.float64)
    period, start = _repeat(mp["tokens"])
    ind = induction_score(a[None], torch.tensor([period]), torch.tensor([start]))
    return HeadMap(key, mp["caption"], tuple(tuple(row) for row in mp["values"]), tuple(mp["tokens"]), period,
                   start, float(previous_token_score(a)), float(ind))


@builder("L02.5")
def head_maps() -> HeadMaps:
    """The clearest previous-token head and induction head, each one sample's map from the lab result."""
    r = load_result(EXPERIMENT)
    return HeadMaps(_map(r, "prev_token_head"), _map(r, "induction_head"), _map(r, "induction_head_other_period"),
                    lab_source(r))


@dataclass(frozen=True)
class PhaseChange:
    """The best induction score over training beside the loss: it jumps within a few logged steps."""
    threshold: float
    step: int                      # first logged step with best induction score ≥ threshold
    previous_logged_step: int
    best_before: float
    best_at: float
    first_step_at: tuple[tuple[float, int], ...]   # (level, first step at or above it)
    induction_curve: tuple[tuple[int, float], ...]  # (step, best induction score)
    loss_curve: tuple[tuple[int, float], ...]       # (step, training loss)
    total_steps: int
    source: str


@builder("L02.5")
def phase_change() -> PhaseChange:
    """The phase change at the step the result file records (Olsson et al.'s 'phase change', our model)."""
    r = load_result(EXPERIMENT)
    pc = r["metrics"]["phase_change"]
    return PhaseChange(
        pc["threshold"], pc["step"], pc["previous_logged_step"], pc["best_induction_before"], pc["best_induction_at"],
        tuple(sorted((float(k), v) for k, v in pc["first_step_at_or_above"].items())),
        tuple((int(s), float(v)) for s, v in pc["best_induction_curve"]),
        tuple((int(s), float(v)) for s, v in r["metrics"]["loss_curve"]), r["config"]["train"]["steps"],
        lab_source(r))


@dataclass(frozen=True)
class PositionalControl:
    """Induction score of the best head per period and per offset, each beside the control (wrong period
    P − 1): high score and low control for every period means content matching, not a fixed offset."""
    layer: int
    head: int
    periods: tuple[int, ...]
    by_period: Vec
    by_period_control: Vec
    by_period_n: tuple[int, ...]
    offsets: tuple[int, ...]
    by_offset: Vec
    by_offset_control: Vec
    by_offset_n: tuple[int, ...]
    source: str


@builder("L02.5")
def positional_control() -> PositionalControl:
    """The lab probe varies the period and the offset: a positional confound would follow one of them."""
    r = load_result(EXPERIMENT)
    bp, bo = r["metrics"]["induction_by_period"], r["metrics"]["induction_by_offset"]
    return PositionalControl(bp["layer"], bp["head"], tuple(bp["period"]), tuple(bp["induction"]),
                             tuple(bp["control"]), tuple(bp["n"]), tuple(bo["offset"]), tuple(bo["induction"]),
                             tuple(bo["control"]), tuple(bo["n"]), lab_source(r))


@dataclass(frozen=True)
class CitedQuote:
    text: str
    cite: str                 # "Voita et al. 2019, arXiv:1905.09418"
    conditions: str


@dataclass(frozen=True)
class CitedRedundancy:
    """Many heads are redundant (published, shown as citations): Voita's pruning numbers, Michel's quote."""
    voita: CitedQuote
    voita_pruned: int         # heads pruned
    voita_total: int          # encoder heads
    voita_bleu_drop: float
    michel: CitedQuote        # a quote, no number on screen


@builder("L02.5")
def cited_redundancy() -> CitedRedundancy:
    """Voita et al. 2019 and Michel et al. 2019, quoted with their conditions (not our measurements)."""
    voita = CitedQuote("pruning 38 out of 48 encoder heads results in a drop of only 0.15 BLEU",
                       f"{VOITA.cite}, arXiv:{VOITA.arxiv}", "WMT EN-RU, Transformer encoder, heads pruned by "
                       "a learned L0 gate")
    michel = CitedQuote("a large percentage of attention heads can be removed at test time without significantly "
                        "impacting performance … some layers can even be reduced to a single head",
                        f"{MICHEL.cite}, arXiv:{MICHEL.arxiv}", "heads masked at test time, BERT and WMT Transformer")
    return CitedRedundancy(voita, 38, 48, 0.15, michel)
