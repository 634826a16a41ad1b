"""L04.3 Needle in haystack experiments: the lab's own protocol (one sample drawn by the lab's task, the
inserter described exactly; gkamradt's for reference), the heat maps of lab experiment 2 (context length ×
depth per position scheme, the training length marked), one answer-position attention row from the stored
maps (mass on the needle against the distractors), the multi-needle and sliding-window results, the
softmax-dilution curve p = e^Δ / (e^Δ + N) (``ar.softmax``), and the cited figures (Lost in the Middle, RULER)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

import attn_ref as ar
from attn_ref.lab.tasks import make_task
from scenes.kit.data_builders import builder
from scenes.kit.references import HSIEH, LIU_2023_LOST, Reference

from ._shared import Mat, Vec, lab, lab_source

SCHEMES: tuple[str, ...] = ("rope", "rope_pi", "rope_yarn", "nope", "alibi")
"""The plan's panels (the file also holds sinusoidal and learned absolute positions)."""
LABELS: dict[str, str] = {"rope": "RoPE", "rope_pi": "RoPE + PI", "rope_yarn": "RoPE + YaRN", "nope": "NoPE",
                          "alibi": "ALiBi", "sinusoidal": "sinusoidal", "learned": "learned absolute"}
PROTOCOL_DEPTH = 0.5
PROTOCOL_SEED = 4
"""The drawn protocol sample: depth 50 %, generator seed 4 (any seed; this one spreads the distractors)."""


def _label(task, tok: int) -> str:
    """A token id of the lab's vocabulary as the screen writes it: ▸ (MARK), ? (QUERY), k3, v7, ·12 (filler)."""
    if tok == task.MARK:
        return "▸"
    if tok == task.QUERY:
        return "?"
    if tok < task.value_offset:
        return f"k{tok - task.key_offset}"
    if tok < task.filler_offset:
        return f"v{tok - task.value_offset}"
    return f"·{tok - task.filler_offset}"


@dataclass(frozen=True)
class Protocol:
    context_len: int
    haystack_len: int              # H = context_len − 2 (one question: QUERY key)
    depth: float
    tokens: tuple[int, ...]
    labels: tuple[str, ...]
    needle_start: int              # round(depth · (H − 3))
    needle_value_pos: int
    distractor_starts: tuple[int, ...]
    query_pos: int                 # where the answer is predicted (the last position)
    answer: str                    # the needle's value
    inserter: str                  # the lab's rule, exactly
    reference_inserter: str        # gkamradt's rule
    scoring: str
    source: str


@builder("L04.3")
def protocol() -> Protocol:
    """One sample of the lab's task (``attn_ref.lab.tasks.NeedleHaystack`` with the experiment's config) at
    depth 50 %: filler, the needle ``▸ key value``, three distractor needles, the question ``? key``."""
    r = lab()
    task = make_task(r["config"]["task"]).with_(depth=PROTOCOL_DEPTH)
    b = task.sample(1, torch.Generator().manual_seed(PROTOCOL_SEED))
    toks = tuple(int(t) for t in b.tokens[0])
    info = b.info
    return Protocol(
        task.context_len, task.haystack_len(1), PROTOCOL_DEPTH, toks, tuple(_label(task, t) for t in toks),
        int(info["needle_start"][0]), int(info["needle_pos"][0]),
        tuple(int(s) for s in info["distractor_starts"][0]), int(info["query_pos"][-1]),
        _label(task, int(info["answer"][0])),
        "needle ▸ key value starts at token round(depth·(H − 3)), an exact token position; distractors (other "
        "keys, other values) at uniformly random free places; filler everywhere else",
        "gkamradt/LLMTest_NeedleInAHaystack: insertion point int(len·depth%), then backtracks to the previous '.' "
        "token so the needle starts a sentence; context 1,000–16,000 tokens in 35 steps × 35 depths, 200-token "
        "buffer, answer scored by an LLM judge",
        "the answer is the argmax prediction at the last position, right or wrong (accuracy over 100 samples per "
        "cell)", lab_source(r))


@dataclass(frozen=True)
class HeatMap:
    scheme: str
    label: str
    accuracy: Mat                  # (length, depth)
    accuracy_by_length: Vec
    needle_mass: Mat               # mean attention mass of the retrieval (layer, head) on the needle span (▸ key value)
    distractor_mass: Mat           # … on the three distractor spans together


@dataclass(frozen=True)
class HeatMaps:
    train_length: int
    lengths: tuple[int, ...]
    multiples: tuple[float, ...]   # length / training length
    depths: Vec
    n_eval: int
    maps: tuple[HeatMap, ...]
    caption: str
    source: str


@builder("L04.3")
def heat_maps() -> HeatMaps:
    """Lab experiment 2: accuracy (context length × needle depth) per scheme, trained at 64 tokens."""
    r = lab()
    m = r["metrics"]
    train = m["train_length"]
    maps = []
    for s in SCHEMES:
        v = m["schemes"][s]
        maps.append(HeatMap(s, LABELS[s], tuple(tuple(row) for row in v["accuracy"]), tuple(v["accuracy_by_length"]),
                            tuple(tuple(row) for row in v["needle_mass"]),
                            tuple(tuple(row) for row in v["distractor_mass"])))
    cfg = r["config"]
    return HeatMaps(train, tuple(m["lengths"]), tuple(n / train for n in m["lengths"]), tuple(m["depths"]),
                    cfg["eval"]["n_eval"], tuple(maps),
                    f"own tiny models ({cfg['model']['n_layers']} layers, d_model {cfg['model']['d_model']}, "
                    f"{m['train']['rope']['n_params']:,} parameters) trained at {train} tokens; PI and YaRN: the "
                    f"RoPE model with factor length/{train}, no fine-tuning", lab_source(r))


@dataclass(frozen=True)
class AnswerRow:
    scheme: str
    tokens: tuple[int, ...]
    labels: tuple[str, ...]
    needle_value_pos: int          # derived from the tokens: the MARK whose key is the one asked
    distractor_value_pos: tuple[int, ...]
    weights: Mat                   # (layer·H + head, key position)
    needle_mass: Vec               # per row: mass on the needle span (▸ key value), the lab's definition
    distractor_mass: Vec           # per row: on the distractor spans together
    needle_value_mass: Vec         # per row: on the needle's value token alone
    best_row: int                  # the row with most mass on the needle span
    best_layer: int
    best_head: int
    caption: str


@dataclass(frozen=True)
class AnswerRows:
    rows: tuple[AnswerRow, ...]
    n_heads: int
    source: str


@builder("L04.3")
def answer_rows() -> AnswerRows:
    """The stored answer-position attention rows (``maps['answer_row_<scheme>']``, a 32-token example) with the
    mass each (layer, head) puts on the needle span and on the distractor spans (the lab's definition), and on
    the needle's value token alone."""
    r = lab()
    task = make_task(r["config"]["task"])
    n_heads = r["config"]["model"]["n_heads"]
    out = []
    for s in ("rope", "nope", "alibi"):
        mp = r["maps"][f"answer_row_{s}"]
        toks = tuple(mp["tokens"])
        asked = toks[-1]
        marks = [i for i, t in enumerate(toks[:-2]) if t == task.MARK]
        needle = next(i + 2 for i in marks if toks[i + 1] == asked)
        distract = tuple(i + 2 for i in marks if toks[i + 1] != asked)
        w = tuple(tuple(row) for row in mp["values"])
        nm = tuple(sum(row[needle - 2:needle + 1]) for row in w)
        dm = tuple(sum(sum(row[p - 2:p + 1]) for p in distract) for row in w)
        vm = tuple(row[needle] for row in w)
        best = max(range(len(w)), key=lambda i: nm[i])
        out.append(AnswerRow(s, toks, tuple(_label(task, t) for t in toks), needle, distract, w, nm, dm, vm, best,
                             best // n_heads, best % n_heads, mp["caption"]))
    return AnswerRows(tuple(out), n_heads, lab_source(r))


@dataclass(frozen=True)
class MultiNeedle:
    n_needles: int
    n_queries: int
    lengths: tuple[int, ...]
    schemes: tuple[str, ...]
    accuracy_by_length: Mat        # (scheme, length)
    single_by_length: Mat          # the single-needle accuracy, for comparison
    source: str


@builder("L04.3")
def multi_needle() -> MultiNeedle:
    """Lab experiment 2's multi-needle variant: 8 needles, 4 questions, accuracy over all answers."""
    r = lab()
    mn = r["metrics"]["multi_needle"]
    return MultiNeedle(mn["n_needles"], mn["n_queries"], tuple(mn["lengths"]), SCHEMES,
                       tuple(tuple(mn["schemes"][s]["accuracy_by_length"]) for s in SCHEMES),
                       tuple(tuple(r["metrics"]["schemes"][s]["accuracy_by_length"]) for s in SCHEMES),
                       lab_source(r))


@dataclass(frozen=True)
class SlidingWindow:
    window: int
    n_layers: int
    reach: int                     # n_layers·(W − 1) + 1 = 31
    one_hop_reach: int             # W − 1 = 15
    distances: tuple[int, ...]
    lengths: tuple[int, ...]
    accuracy: Mat                  # (length, distance)
    within_one_hop: float
    beyond_reach: float
    chance: float
    reach_note: str
    source: str


@builder("L04.3")
def sliding_window() -> SlidingWindow:
    """The sliding-window model (W = 16) of lab experiment 2: retrieval vs the needle's distance; beyond the
    receptive field it is at chance."""
    r = lab()
    sw = r["metrics"]["sliding_window"]
    lengths = tuple(int(k) for k in sw["accuracy"])
    return SlidingWindow(sw["window"], sw["n_layers"], sw["reach"], sw["one_hop_reach"], tuple(sw["distances"]),
                         lengths, tuple(tuple(sw["accuracy"][str(n)]) for n in lengths),
                         sw["mean_accuracy_within_one_hop"], sw["mean_accuracy_beyond_reach"], sw["chance"],
                         sw["reach_note"], lab_source(r))


DILUTION_N: tuple[int, ...] = (1, 10, 100, 1_000, 10_000, 100_000, 1_000_000)
DILUTION_DELTAS: Vec = (0.0, 2.0, 4.0, 6.0, 8.0, 10.0)
TARGET_P: Vec = (0.5, 0.9)
N_128K = 131_071
"""A 128K context (131,072 tokens) holds one needle and 131,071 other tokens."""


@dataclass(frozen=True)
class Dilution:
    n_distractors: tuple[int, ...]
    deltas: Vec
    weights: Mat                   # (delta, N): softmax([Δ, 0 × N])_0 via ar.softmax
    target_p: Vec
    margins: Mat                   # (target p, N): Δ = ln(pN / (1 − p)) (ar.needle_margin)
    per_decade: float              # ln 10: the extra margin per tenfold N
    margin_128k: Vec               # Δ for each target p at N = 131,071 (a 128K context, one needle)
    context_128k: int              # that context's length in tokens, N + 1 = 131,072
    max_closed_form_gap: float     # |ar.softmax − e^Δ/(e^Δ + N)| over the grid


@builder("L04.3")
def dilution() -> Dilution:
    """One needle with logit advantage Δ over N equal distractors: p = e^Δ/(e^Δ + N), computed as
    ``ar.softmax`` of the (N + 1)-vector; keeping p fixed needs Δ to grow like ln N."""
    weights, gap = [], 0.0
    for delta in DILUTION_DELTAS:
        row = []
        for n in DILUTION_N:
            x = torch.zeros(n + 1, dtype=torch.float64)
            x[0] = delta
            p = float(ar.softmax(x)[0])
            gap = max(gap, abs(p - ar.needle_weight(delta, n)))
            row.append(p)
        weights.append(tuple(row))
    margins = tuple(tuple(ar.needle_margin(p, n) for n in DILUTION_N) for p in TARGET_P)
    return Dilution(DILUTION_N, DILUTION_DELTAS, tuple(weights), TARGET_P, margins, math.log(10),
                    tuple(ar.needle_margin(p, N_128K) for p in TARGET_P), N_128K + 1, gap)


@dataclass(frozen=True)
class Cited:
    what: str
    figure: str
    where: str
    source: str


NOLIMA = Reference("Modarressi et al.", 2025, "NoLiMa: Long-Context Evaluation Beyond Literal Matching",
                   note="verify: not in the course catalogue; the plan marks it [verify]")


@builder("L04.3")
def cited_niah() -> tuple[Cited, ...]:
    """Published figures, quoted as citations (not measured here)."""
    return (
        Cited("Lost in the Middle: U-shaped accuracy vs the position of the relevant document",
              "GPT-3.5-Turbo, 20 documents: the worst (middle) position falls below its closed-book accuracy "
              "of 56.1%; oracle 88.3%", "multi-document QA figure and closed-book/oracle table",
              LIU_2023_LOST.short(venue=False)),
        Cited("RULER: 17 models, 13 tasks",
              "despite achieving nearly perfect accuracy in the vanilla NIAH test, almost all models exhibit large "
              "performance drops as the context length increases", "abstract", HSIEH.short(venue=False)),
        Cited("RULER: satisfactory at 32K",
              "only half of them can maintain satisfactory performance at the length of 32K", "abstract",
              HSIEH.short(venue=False)),
        Cited("RULER: effective length threshold", "Llama-2-7B's score at 4K, 85.6",
              "effective length: the longest length scoring above this threshold", HSIEH.short(venue=False)),
        Cited("NoLiMa: needles without literal overlap with the question",
              "vanilla NIAH rewards lexical matching (figures not quoted: [verify])", "plan mark [verify]",
              f"{NOLIMA.cite} · {NOLIMA.title} [verify]"),
    )
