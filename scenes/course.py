"""The course manifest: 12 lectures, the 74 outline topics, and which scene section covers which topic.

This module is pure data (no manim import), so `scripts/coverage.py` and the tests load it in
milliseconds. The render and assembly pipeline (`scenes/pipeline`) reads it to know, per lecture,
which scenes to render in which order and which sections (YouTube chapters) each scene must have.

Section names follow the scene kit's convention (`LectureScene.topic`): the topic ids joined by
"+", a space, then a title -- ``"L01.5 Dot-product attention mathematics"`` or
``"L01.1+L01.2 History and evolution"``. Sections without topic ids (``"Title"``, ``"Recap"``,
``"References"``) are allowed; they become chapters too but cover no topic.

Adding a lecture's scenes (when they exist):

    Lecture(..., scenes=(
        SceneSpec("scenes/l01_fundamentals/history.py", "History",
                  sections=(section("L01.1", "L01.2"), section("L01.3"))),
        ...
    ), ready=True)

`section(*ids)` builds the canonical name from the outline titles, so the manifest and the scene
can use the same helper and cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from scenes.kit.references import (AINSLIE_2020, AINSLIE_2023, ARORA_2023, ARORA_2024, BAHDANAU, BELTAGY, BENGIO_1994,
                                   BHOJANAPALLI, BROWN, CHEN_2023_PI, CHEN_2023_SPECULATIVE, CHILD, CHO, CHOROMANSKI,
                                   CHOWDHERY, CLARK, CSORDAS, DAI, DAO_2022, DAO_2023_DECODING, DAO_2023_FLASH2,
                                   DAO_2024, DE, DEEPSEEK_2024_V2, DEEPSEEK_2024_V3, DEVLIN, DING, DONG, ELHAGE,
                                   ELMAN, FEDUS, GEMINI, GEMMA_2024, GEMMA_2025, GU_2020, GU_2021, GU_2022, GU_2023,
                                   HAVIV, HOCHREITER, HSIEH, HU, JAIN, JELASSI, JI, JIANG_2023, JIANG_2024, JIN,
                                   KAPLAN, KATHAROPOULOS, KAZEMNEJAD, KWON, LEPIKHIN, LEVIATHAN, LIEBER,
                                   LIU_2023_LOST, LIU_2023_RING, LLAMA, LUONG, MENG, MICHEL, MILAKOV, OLSSON, PENG,
                                   POPE, PRESS, RABE, RAFFEL, ROZIERE, RUMELHART, SHAH, SHAW, SHAZEER_2017,
                                   SHAZEER_2019, SHOEYBI, SU, SUN, SUTSKEVER, TILLET, TOUVRON, VASWANI, VOITA, WANG,
                                   WU, XIAO, YANG_2023, YANG_2024, YE, YU, ZAHEER, ZHANG_2019, ZHANG_2022, ZHOU, ZOPH,
                                   Reference)

REPO_ROOT = Path(__file__).resolve().parent.parent

COURSE_TITLE = "Attention Lectures"

# --------------------------------------------------------------------------------------------
# The outline (OUTLINE.md), as data. tests/pipeline checks this against ../shared/OUTLINE.md.
# --------------------------------------------------------------------------------------------

OUTLINE: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("01", "Attention Fundamentals", (
        ("L01.1", "Brief historical context (5 min)"),
        ("L01.2", "Evolution: FFN → RNN → LSTM → Attention"),
        ("L01.3", "Why direct connections matter"),
        ("L01.4", "Query/Key/Value framework"),
        ("L01.5", "Dot-product attention mathematics"),
        ("L01.6", "Softmax and scaling deep dive"),
        ("L01.7", "Worked example from start to finish"),
        ("L01.8", "Attention pattern visualization"),
        ("L01.9", "Masking in attention"),
    )),
    ("02", "Multi-Head Attention", (
        ("L02.1", "Why single attention head isn't enough"),
        ("L02.2", "Parameter matrices breakdown"),
        ("L02.3", "Linear projections in detail"),
        ("L02.4", "Head dimension calculations"),
        ("L02.5", "Pattern specialization per head"),
        ("L02.6", "Output aggregation mechanisms"),
        ("L02.7", "Parallel computation benefits"),
    )),
    ("03", "Rotary Positional Embeddings", (
        ("L03.1", "Absolute vs relative positioning"),
        ("L03.2", "RoPE mathematics"),
        ("L03.3", "Implementation details"),
        ("L03.4", "Benefits over other positional approaches"),
        ("L03.5", "Scaling considerations"),
    )),
    ("04", "The Context Length Challenge", (
        ("L04.1", "Quadratic scaling problem"),
        ("L04.2", "Memory and computation bounds"),
        ("L04.3", "Needle in haystack experiments"),
        ("L04.4", "Key metrics for long context"),
        ("L04.5", "Path from 2K to 100K+ tokens"),
        ("L04.6", "Current SOTA approaches"),
        ("L04.7", "Real-world implications"),
    )),
    ("05", "KV Cache", (
        ("L05.1", "Core KV caching concept"),
        ("L05.2", "Memory savings mathematics"),
        ("L05.3", "Implementation deep dive"),
        ("L05.4", "Autoregressive generation patterns"),
        ("L05.5", "Common pitfalls and solutions"),
        ("L05.6", "Performance implications"),
    )),
    ("06", "Flash Attention", (
        ("L06.1", "IO-aware attention computation"),
        ("L06.2", "Tiling strategies"),
        ("L06.3", "Memory hierarchy optimization"),
        ("L06.4", "Implementation details"),
        ("L06.5", "Flash Attention 1 vs 2"),
        ("L06.6", "Performance gains"),
    )),
    ("07", "Sliding Window & Sparse Attention", (
        ("L07.1", "Local vs global attention patterns"),
        ("L07.2", "Sparse attention matrices"),
        ("L07.3", "Block-sparse implementations"),
        ("L07.4", "Longformer/BigBird approaches"),
        ("L07.5", "Trade-offs in long sequences"),
    )),
    ("08", "Grouped Query Attention", (
        ("L08.1", "Memory scaling problems in attention"),
        ("L08.2", "GQA mathematical foundation"),
        ("L08.3", "Head grouping strategies"),
        ("L08.4", "Memory vs performance tradeoffs"),
        ("L08.5", "Implementation considerations"),
        ("L08.6", "Real-world benchmarks"),
    )),
    ("09", "Multi-head Latent Attention", (
        ("L09.1", "Latent space fundamentals"),
        ("L09.2", "Dimensionality reduction mathematics"),
        ("L09.3", "Query/key space transformations"),
        ("L09.4", "Computational efficiency gains"),
        ("L09.5", "Implementation challenges"),
        ("L09.6", "Practical considerations"),
    )),
    ("10", "Linear/State Space Attention", (
        ("L10.1", "Linear attention mechanisms"),
        ("L10.2", "State space models"),
        ("L10.3", "Mamba architecture insights"),
        ("L10.4", "Performance characteristics"),
        ("L10.5", "When to use linear alternatives"),
    )),
    ("11", "Differential Attention", (
        ("L11.1", "Attention noise problem"),
        ("L11.2", "Dual softmax mechanism in detail"),
        ("L11.3", "Lambda parameter dynamics"),
        ("L11.4", "GroupNorm's role"),
        ("L11.5", "Training considerations"),
        ("L11.6", "Performance characteristics"),
        ("L11.7", "Empirical improvements"),
    )),
    ("12", "Mixture of Experts Attention", (
        ("L12.1", "MoE fundamentals"),
        ("L12.2", "Expert routing in attention"),
        ("L12.3", "Balancing and gating"),
        ("L12.4", "Training considerations"),
        ("L12.5", "Scaling properties"),
    )),
)

#: topic id -> title, in outline order (74 entries).
TOPICS: dict[str, str] = {tid: title for _, _, topics in OUTLINE for tid, title in topics}

TOPIC_ID_RE = re.compile(r"^L(\d{2})\.(\d+)$")
_SECTION_RE = re.compile(r"^(L\d{2}\.\d+(?:\+L\d{2}\.\d+)*)(?:\s+(.*))?$")

#: manim names a scene's first section "autocreated" when something is played before the
#: first next_section(); such a section is no chapter of its own.
IMPLICIT_SECTION_NAMES = frozenset({"autocreated", "unnamed"})


def chapter_title(topic_id: str) -> str:
    """The outline title without the duration hint: 'Brief historical context (5 min)' -> '... context'."""
    return re.sub(r"\s*\(\d+\s*min\)\s*$", "", TOPICS[topic_id])


def section(*topic_ids: str, title: str | None = None) -> str:
    """The canonical section name for one or more topics: ``section("L01.5")`` ->
    ``"L01.5 Dot-product attention mathematics"``; several ids are joined with '+' and the title
    defaults to the first topic's title."""
    if not topic_ids:
        raise ValueError("section() needs at least one topic id")
    for tid in topic_ids:
        if tid not in TOPICS:
            raise ValueError(f"unknown topic id {tid!r}")
    return f"{'+'.join(topic_ids)} {title or chapter_title(topic_ids[0])}"


def parse_section_name(name: str) -> tuple[tuple[str, ...], str]:
    """``"L01.1+L01.2 Title"`` -> ``(("L01.1", "L01.2"), "Title")``; a name without ids -> ``((), name)``.

    Same convention as scenes.kit.lecture_scene.parse_section_name (a test checks that both agree).
    """
    m = _SECTION_RE.match(name.strip())
    if not m:
        return (), name.strip()
    ids = tuple(m.group(1).split("+"))
    return ids, (m.group(2) or "").strip()


# --------------------------------------------------------------------------------------------
# Manifest data types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SceneSpec:
    """One manim scene of a lecture: its file (relative to the repo root, or absolute), its class,
    and the names of its sections in order (exactly as the scene starts them)."""

    module: str
    scene: str
    sections: tuple[str, ...] = ()
    #: extra files or folders (repo-relative) whose change must re-render this scene, e.g. a
    #: committed results file the lecture's data module reads.
    deps: tuple[str, ...] = ()

    def path(self, root: Path) -> Path:
        p = Path(self.module)
        return p if p.is_absolute() else root / p

    @property
    def module_name(self) -> str:
        """What manim uses as {module_name} in media/videos/{module_name}/{quality}."""
        return Path(self.module).stem

    def topic_ids(self) -> tuple[str, ...]:
        return tuple(t for s in self.sections for t in parse_section_name(s)[0])


@dataclass(frozen=True)
class Lecture:
    id: str  # "01"
    slug: str  # "attention-fundamentals"
    title: str
    description: str
    package: str  # the scene package the lecture's files live in, e.g. "scenes/l01_fundamentals"
    references: tuple[Reference, ...] = ()
    tags: tuple[str, ...] = ()
    scenes: tuple[SceneSpec, ...] = ()
    ready: bool = False
    target_minutes: int | None = None
    #: topic ids of this lecture; filled from the outline by Course when left empty
    topic_ids: tuple[str, ...] = ()
    #: the cards the assembler puts around the scenes: "title" before, "end" after. Drop "title"
    #: when the lecture's first scene opens with its own title card.
    cards: tuple[str, ...] = ("title", "end")
    #: the thumbnail's frame: (scene class of this lecture, seconds into that scene's video); the
    #: assembler puts the lecture's title under it
    thumbnail: tuple[str, float] | None = None

    @property
    def stem(self) -> str:
        """File stem of the lecture's outputs: "01-attention-fundamentals"."""
        return f"{self.id}-{self.slug}"

    def covered_topics(self) -> dict[str, list[tuple[SceneSpec, str]]]:
        out: dict[str, list[tuple[SceneSpec, str]]] = {t: [] for t in self.topic_ids}
        for sc in self.scenes:
            for name in sc.sections:
                for tid in parse_section_name(name)[0]:
                    out.setdefault(tid, []).append((sc, name))
        return out

    def uncovered_topics(self) -> list[str]:
        cov = self.covered_topics()
        return [t for t in self.topic_ids if not cov.get(t)]


@dataclass(frozen=True)
class Course:
    title: str
    lectures: tuple[Lecture, ...]
    topics: dict[str, str] = field(default_factory=dict)
    #: the folder scene paths are relative to, where manim.cfg and media/ live
    root: Path = REPO_ROOT
    #: files and folders (repo-relative) whose change re-renders every scene
    shared_inputs: tuple[str, ...] = ("scenes/kit", "attn_ref", "manim.cfg")
    #: folders inside ``shared_inputs`` left out of that hash: code no scene draws from by default (the lab's
    #: training code, the Triton kernels). A scene that does use one names it in its ``deps``.
    shared_exclude: tuple[str, ...] = ("attn_ref/lab", "attn_ref/kernels")

    def lecture(self, key: str) -> Lecture:
        k = normalize_lecture_id(key)
        for lec in self.lectures:
            if lec.id == k:
                return lec
        raise KeyError(f"no lecture {key!r} (have {', '.join(x.id for x in self.lectures)})")

    def select(self, selector: str) -> list[Lecture]:
        """'ready' -> lectures marked ready; 'all' -> every lecture that has scenes;
        '01' / '1' / 'L01' / '01,03' -> those lectures."""
        s = selector.strip().lower()
        if s == "ready":
            return [x for x in self.lectures if x.ready]
        if s == "all":
            return [x for x in self.lectures if x.scenes]
        return [self.lecture(part) for part in selector.split(",") if part.strip()]

    def next_lecture(self, lec: Lecture) -> Lecture | None:
        ids = [x.id for x in self.lectures]
        i = ids.index(lec.id)
        return self.lectures[i + 1] if i + 1 < len(self.lectures) else None

    def validate(self) -> list[str]:
        """Structural problems of the manifest (empty list when fine)."""
        problems: list[str] = []
        seen_ids: set[str] = set()
        seen_slugs: set[str] = set()
        outputs: dict[tuple[str, str], str] = {}
        for lec in self.lectures:
            if lec.id in seen_ids:
                problems.append(f"duplicate lecture id {lec.id}")
            seen_ids.add(lec.id)
            if lec.slug in seen_slugs:
                problems.append(f"duplicate slug {lec.slug}")
            seen_slugs.add(lec.slug)
            if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", lec.slug):
                problems.append(f"lecture {lec.id}: slug {lec.slug!r} is not lowercase-dashed")
            if set(lec.cards) - {"title", "end"}:
                problems.append(f"lecture {lec.id}: cards must be 'title' and/or 'end', not {lec.cards}")
            if lec.ready and not lec.scenes:
                problems.append(f"lecture {lec.id} is ready but has no scenes")
            for sc in lec.scenes:
                key = (sc.module_name, sc.scene)
                if key in outputs:
                    # manim writes media/videos/<module stem>/<q>/<Scene>.mp4: same stem + same
                    # class in two places would overwrite each other's outputs
                    problems.append(
                        f"{sc.module}:{sc.scene} collides with {outputs[key]} "
                        f"(same file stem and scene name)"
                    )
                outputs[key] = f"{sc.module}:{sc.scene}"
                if not sc.sections:
                    problems.append(f"{sc.module}:{sc.scene} lists no sections")
                if len(set(sc.sections)) != len(sc.sections):
                    problems.append(f"{sc.module}:{sc.scene} lists a section twice")
                for name in sc.sections:
                    for tid in parse_section_name(name)[0]:
                        if tid not in self.topics:
                            problems.append(f"{sc.module}:{sc.scene}: section {name!r}: unknown topic {tid}")
        return problems


def normalize_lecture_id(key: str) -> str:
    k = key.strip().upper().removeprefix("L")
    if not k.isdigit():
        raise KeyError(f"not a lecture id: {key!r}")
    return f"{int(k):02d}"


def parse_outline(text: str) -> dict[str, str]:
    """Topic id -> title from OUTLINE.md's '- L01.1 Title' lines."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = re.match(r"^\s*[-*]\s+(L\d{2}\.\d+)\s+(.+?)\s*$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


# --------------------------------------------------------------------------------------------
# The lectures
# --------------------------------------------------------------------------------------------

_COMMON_TAGS = ("attention", "transformers", "deep learning", "machine learning", "Attention Lectures")

LECTURES: tuple[Lecture, ...] = (
    Lecture(
        id="01", slug="attention-fundamentals", title="Attention Fundamentals",
        description=(
            "Where attention came from and how it works: from feed-forward nets, RNNs and LSTMs to "
            "direct connections; queries, keys and values; scaled dot-product attention and its "
            "softmax; a worked example with real numbers from start to finish; attention patterns; "
            "and masking."
        ),
        package="scenes/l01_fundamentals",
        references=(  # also the recap's references card (data.references()), oldest first
            RUMELHART, ELMAN, BENGIO_1994, HOCHREITER, SUTSKEVER, CHO, BAHDANAU, LUONG, VASWANI,
        ),
        tags=(*_COMMON_TAGS, "self-attention", "query key value", "softmax", "scaled dot-product attention"),
        target_minutes=20,
        scenes=(
            SceneSpec("scenes/l01_fundamentals/l01_history.py", "History", sections=(section("L01.1"),)),
            SceneSpec("scenes/l01_fundamentals/l01_evolution.py", "Evolution", sections=(section("L01.2"),)),
            SceneSpec("scenes/l01_fundamentals/l01_direct_connections.py", "DirectConnections",
                      sections=(section("L01.3"),)),
            SceneSpec("scenes/l01_fundamentals/l01_qkv.py", "QueryKeyValue", sections=(section("L01.4"),)),
            SceneSpec("scenes/l01_fundamentals/l01_dot_product.py", "DotProductAttention",
                      sections=(section("L01.5"),)),
            SceneSpec("scenes/l01_fundamentals/l01_softmax_scaling.py", "SoftmaxScaling",
                      sections=(section("L01.6"),)),
            SceneSpec("scenes/l01_fundamentals/l01_worked_example.py", "WorkedExample",
                      sections=(section("L01.7"),)),
            SceneSpec("scenes/l01_fundamentals/l01_patterns.py", "AttentionPatterns", sections=(section("L01.8"),)),
            SceneSpec("scenes/l01_fundamentals/l01_masking.py", "Masking", sections=(section("L01.9"),)),
            SceneSpec("scenes/l01_fundamentals/l01_recap.py", "Recap", sections=("Recap", "References")),
        ),
        thumbnail=("WorkedExample", 100.0),  # the attention weights, each row summing to 1, and the row of "cat"
        ready=True,
    ),
    Lecture(
        id="02", slug="multi-head-attention", title="Multi-Head Attention",
        description=(
            "Why one attention head is not enough, what the projection matrices hold, how heads are "
            "split and recombined, what trained heads specialise in (previous-token and induction "
            "heads), and why heads compute in parallel."
        ),
        package="scenes/l02_multihead",
        references=(
            VASWANI, VOITA, MICHEL, CLARK, ELHAGE, OLSSON, BHOJANAPALLI, SHOEYBI, JAIN,
        ),
        tags=(*_COMMON_TAGS, "multi-head attention", "induction heads", "attention heads"),
        target_minutes=18,
        scenes=(
            SceneSpec("scenes/l02_multihead/l02_why_heads.py", "WhyHeads", sections=(section("L02.1"),)),
            SceneSpec("scenes/l02_multihead/l02_parameter_matrices.py", "ParameterMatrices",
                      sections=(section("L02.2"),)),
            SceneSpec("scenes/l02_multihead/l02_projections.py", "Projections", sections=(section("L02.3"),)),
            SceneSpec("scenes/l02_multihead/l02_head_dimension.py", "HeadDimension", sections=(section("L02.4"),)),
            SceneSpec("scenes/l02_multihead/l02_specialisation.py", "Specialisation", sections=(section("L02.5"),)),
            SceneSpec("scenes/l02_multihead/l02_aggregation.py", "Aggregation", sections=(section("L02.6"),)),
            SceneSpec("scenes/l02_multihead/l02_parallel.py", "ParallelHeads", sections=(section("L02.7"),)),
            SceneSpec("scenes/l02_multihead/l02_recap.py", "Recap", sections=("Recap", "References")),
        ),
        thumbnail=("Specialisation", 80.0),  # two trained heads' maps: previous-token diagonal, induction stripe
        ready=True,
    ),
    Lecture(
        id="03", slug="rotary-positional-embeddings", title="Rotary Positional Embeddings",
        description=(
            "Absolute versus relative positions, the mathematics of RoPE as rotations of query and key "
            "pairs, the half and interleaved pairings used in real code, how RoPE compares with other "
            "positional schemes, and how it is scaled to longer contexts (PI, NTK, YaRN)."
        ),
        package="scenes/l03_rope",
        references=(
            VASWANI, SHAW, RAFFEL, SU, PRESS, HAVIV, KAZEMNEJAD, CHEN_2023_PI, PENG, ROZIERE, LLAMA, DING,
        ),
        tags=(*_COMMON_TAGS, "RoPE", "rotary embeddings", "positional encoding", "YaRN", "long context"),
        target_minutes=20,
        scenes=(
            SceneSpec("scenes/l03_rope/l03_absolute_relative.py", "AbsoluteRelative", sections=(section("L03.1"),)),
            SceneSpec("scenes/l03_rope/l03_rope_math.py", "RopeMath", sections=(section("L03.2"),)),
            SceneSpec("scenes/l03_rope/l03_implementation.py", "RopeImplementation", sections=(section("L03.3"),)),
            SceneSpec("scenes/l03_rope/l03_benefits.py", "RopeBenefits", sections=(section("L03.4"),)),
            SceneSpec("scenes/l03_rope/l03_scaling.py", "RopeScalingScene", sections=(section("L03.5"),)),
            SceneSpec("scenes/l03_rope/l03_recap.py", "Recap", sections=("Recap", "References")),
        ),
        thumbnail=("RopeMath", 145.0),  # five planes' dials at their own speeds, the two hands' gap kept in each
        ready=True,
    ),
    Lecture(
        id="04", slug="context-length-challenge", title="The Context Length Challenge",
        description=(
            "Why attention cost grows with the square of the sequence length, the memory and compute "
            "bounds that follow, needle-in-a-haystack experiments and better long-context metrics, the "
            "path from 2K to 100K+ tokens, today's approaches and what they mean in practice."
        ),
        package="scenes/l04_context",
        references=(
            VASWANI, KAPLAN, DEVLIN, BROWN, DAO_2022, CHEN_2023_PI, PENG, ROZIERE, JIANG_2023, XIAO, LIU_2023_RING,
            LIU_2023_LOST, HSIEH, GEMINI, LLAMA, GEMMA_2024, GEMMA_2025,
        ),
        tags=(*_COMMON_TAGS, "long context", "context length", "needle in a haystack", "quadratic attention"),
        target_minutes=20,
        scenes=(
            SceneSpec("scenes/l04_context/l04_quadratic.py", "QuadraticScaling", sections=(section("L04.1"),)),
            SceneSpec("scenes/l04_context/l04_bounds.py", "MemoryComputeBounds", sections=(section("L04.2"),)),
            SceneSpec("scenes/l04_context/l04_needle.py", "NeedleHaystack", sections=(section("L04.3"),)),
            SceneSpec("scenes/l04_context/l04_metrics.py", "LongContextMetrics", sections=(section("L04.4"),)),
            SceneSpec("scenes/l04_context/l04_timeline.py", "ContextTimeline", sections=(section("L04.5"),)),
            SceneSpec("scenes/l04_context/l04_approaches.py", "CurrentApproaches", sections=(section("L04.6"),)),
            SceneSpec("scenes/l04_context/l04_implications.py", "RealWorldImplications",
                      sections=(section("L04.7"),)),
            SceneSpec("scenes/l04_context/l04_recap.py", "Recap", sections=("Recap", "References")),
        ),
        thumbnail=("NeedleHaystack", 92.0),  # the five schemes' accuracy maps, the training length marked
        ready=True,
    ),
    Lecture(
        id="05", slug="kv-cache", title="KV Cache",
        description=(
            "How caching keys and values turns autoregressive decoding from recomputation into lookup: "
            "the memory arithmetic, an implementation walk-through, generation patterns (prefill, "
            "decode, batching, paging), common pitfalls and what the cache does to performance."
        ),
        package="scenes/l05_kv_cache",
        references=(
            VASWANI, SHAZEER_2019, POPE, KWON, YU, LEVIATHAN, CHEN_2023_SPECULATIVE, JIANG_2023, DAO_2023_DECODING,
        ),
        tags=(*_COMMON_TAGS, "KV cache", "inference", "autoregressive decoding", "LLM serving"),
        target_minutes=18,
        scenes=(
            SceneSpec("scenes/l05_kv_cache/l05_caching.py", "CachingConcept", sections=(section("L05.1"),)),
            SceneSpec("scenes/l05_kv_cache/l05_savings.py", "MemorySavings", sections=(section("L05.2"),)),
            SceneSpec("scenes/l05_kv_cache/l05_implementation.py", "CacheImplementation",
                      sections=(section("L05.3"),)),
            SceneSpec("scenes/l05_kv_cache/l05_generation.py", "GenerationPatterns", sections=(section("L05.4"),)),
            SceneSpec("scenes/l05_kv_cache/l05_pitfalls.py", "CachePitfalls", sections=(section("L05.5"),)),
            SceneSpec("scenes/l05_kv_cache/l05_performance.py", "DecodePerformance", sections=(section("L05.6"),)),
            SceneSpec("scenes/l05_kv_cache/l05_recap.py", "Recap", sections=("Recap", "References")),
        ),
        thumbnail=("CachingConcept", 88.0),  # the whole grid recomputed beside one cached row, K/V rows appended
        ready=True,
    ),
    Lecture(
        id="06", slug="flash-attention", title="Flash Attention",
        description=(
            "IO-aware exact attention: why memory traffic and not FLOPs limits attention, tiling with "
            "the online softmax, the GPU memory hierarchy, implementation details of the forward and "
            "backward passes, FlashAttention 1 versus 2, and the measured gains."
        ),
        package="scenes/l06_flash",
        references=(
            DAO_2022, DAO_2023_FLASH2, SHAH, MILAKOV, RABE, DONG, TILLET,
        ),
        tags=(*_COMMON_TAGS, "FlashAttention", "GPU", "online softmax", "tiling", "IO-aware"),
        target_minutes=24,
        thumbnail=("TilingStrategies", 172.0),  # the 16 × 16 tile walk done: m, ℓ per row, Õ/ℓ, "O = sdpa"
        ready=True,
        scenes=(
            SceneSpec("scenes/l06_flash/l06_io_aware.py", "IOAwareAttention", sections=(section("L06.1"),)),
            SceneSpec("scenes/l06_flash/l06_tiling.py", "TilingStrategies", sections=(section("L06.2"),)),
            SceneSpec("scenes/l06_flash/l06_hierarchy.py", "MemoryHierarchy", sections=(section("L06.3"),)),
            SceneSpec("scenes/l06_flash/l06_implementation.py", "FlashImplementation", sections=(section("L06.4"),)),
            SceneSpec("scenes/l06_flash/l06_versions.py", "FlashVersions", sections=(section("L06.5"),)),
            SceneSpec("scenes/l06_flash/l06_performance.py", "PerformanceGains", sections=(section("L06.6"),)),
            SceneSpec("scenes/l06_flash/l06_recap.py", "Recap", sections=("Recap", "References")),
        ),
    ),
    Lecture(
        id="07", slug="sliding-window-sparse-attention", title="Sliding Window & Sparse Attention",
        description=(
            "Local and global attention patterns, sparse and block-sparse attention matrices and how "
            "they are implemented, the Longformer and BigBird designs, and the trade-offs of sparse "
            "attention on long sequences."
        ),
        package="scenes/l07_sparse",
        references=(
            CHILD, BELTAGY, AINSLIE_2020, ZAHEER, DAO_2022, JIANG_2023, XIAO, GEMMA_2024, GEMMA_2025, DONG,
        ),
        tags=(*_COMMON_TAGS, "sparse attention", "sliding window attention", "Longformer", "BigBird"),
        target_minutes=17,
    ),
    Lecture(
        id="08", slug="grouped-query-attention", title="Grouped Query Attention",
        description=(
            "Why the KV cache dominates memory at inference, how grouped-query attention shares keys "
            "and values across query heads (MHA, GQA, MQA), grouping strategies and uptraining, the "
            "memory versus quality trade-off, implementation details and real benchmarks."
        ),
        package="scenes/l08_gqa",
        references=(
            SHAZEER_2019, AINSLIE_2023, TOUVRON, JIANG_2023, CHOWDHERY, POPE, DEEPSEEK_2024_V2,
        ),
        tags=(*_COMMON_TAGS, "grouped query attention", "GQA", "multi-query attention", "KV cache"),
        target_minutes=15,
    ),
    Lecture(
        id="09", slug="multi-head-latent-attention", title="Multi-head Latent Attention",
        description=(
            "DeepSeek's multi-head latent attention: caching a low-rank latent instead of full keys and "
            "values, the dimensionality-reduction mathematics, the query/key transformations and "
            "decoupled RoPE, the weight-absorption trick, and the practical costs and gains."
        ),
        package="scenes/l09_mla",
        references=(
            DEEPSEEK_2024_V2, DEEPSEEK_2024_V3, SHAZEER_2019, AINSLIE_2023, SU, PENG, HU, MENG, JI,
        ),
        tags=(*_COMMON_TAGS, "multi-head latent attention", "MLA", "DeepSeek", "KV cache compression"),
        target_minutes=20,
    ),
    Lecture(
        id="10", slug="linear-state-space-attention", title="Linear/State Space Attention",
        description=(
            "Linear attention as a recurrent state, state space models from S4 to Mamba and Mamba-2, "
            "selective scans, their performance characteristics against softmax attention, and when "
            "a linear alternative is the right choice."
        ),
        package="scenes/l10_linear_ssm",
        references=(
            KATHAROPOULOS, CHOROMANSKI, SUN, YANG_2023, YANG_2024, GU_2020, GU_2021, GU_2022, GU_2023, DAO_2024,
            ARORA_2023, JELASSI, ARORA_2024, LIEBER, DE,
        ),
        tags=(*_COMMON_TAGS, "linear attention", "state space models", "Mamba", "SSM", "S4"),
        target_minutes=25,
    ),
    Lecture(
        id="11", slug="differential-attention", title="Differential Attention",
        description=(
            "The attention-noise problem and the Differential Transformer's answer: the difference of "
            "two softmax maps, the learnable lambda and its re-parameterisation, the role of per-head "
            "normalisation, training considerations and the reported improvements."
        ),
        package="scenes/l11_differential",
        references=(
            YE, VASWANI, ZHANG_2019, WU, XIAO, LIU_2023_LOST,
        ),
        tags=(*_COMMON_TAGS, "differential attention", "Differential Transformer", "attention noise"),
        target_minutes=16,
    ),
    Lecture(
        id="12", slug="mixture-of-experts-attention", title="Mixture of Experts Attention",
        description=(
            "Mixture-of-experts fundamentals and routing applied to attention itself: token and expert "
            "choice, load balancing and gating, training considerations and how mixture-of-experts "
            "attention scales."
        ),
        package="scenes/l12_moe",
        references=(
            SHAZEER_2017, LEPIKHIN, FEDUS, ZOPH, ZHOU, ZHANG_2022, CSORDAS, JIANG_2024, DAI, WANG, JIN,
            DEEPSEEK_2024_V3,
        ),
        tags=(*_COMMON_TAGS, "mixture of experts", "MoE", "routing", "load balancing"),
        target_minutes=17,
    ),
)


def _with_outline_topics(lectures: tuple[Lecture, ...]) -> tuple[Lecture, ...]:
    from dataclasses import replace

    by_id = {lid: tuple(t for t, _ in topics) for lid, _, topics in OUTLINE}
    return tuple(x if x.topic_ids else replace(x, topic_ids=by_id.get(x.id, ())) for x in lectures)


COURSE = Course(title=COURSE_TITLE, lectures=_with_outline_topics(LECTURES), topics=TOPICS)


class ManifestError(ValueError):
    """``--manifest`` names nothing loadable; the message names the spec and what is wrong."""


def load_course(spec: str | None = None) -> Course:
    """The course object named by ``spec`` ("module.path:ATTR" or "path/to/file.py:ATTR"), or COURSE.

    The pipeline scripts take ``--manifest`` (or env ATTN_MANIFEST) so tests can use a fixture course.
    Raises ManifestError (a one-line message naming the spec) when the file, module or attribute is
    missing, the module fails to import, or the object is not a Course.
    """
    import os

    spec = spec or os.environ.get("ATTN_MANIFEST")
    if not spec:
        return COURSE
    target, _, attr = spec.partition(":")
    attr = attr or "COURSE"
    if not target.strip():
        raise ManifestError(f"manifest {spec!r}: names no module or file before ':'")
    if not target.endswith(".py") and ("/" in target or os.sep in target):
        raise ManifestError(f"manifest {spec!r}: a manifest file must be a .py file ('path/to/file.py:ATTR')")
    try:
        if target.endswith(".py"):
            import importlib.util

            path = Path(target).resolve()
            if not path.is_file():
                raise ManifestError(f"manifest {spec!r}: no file {path}")
            mod_spec = importlib.util.spec_from_file_location(f"_attn_manifest_{path.stem}", path)
            if mod_spec is None or mod_spec.loader is None:
                raise ManifestError(f"manifest {spec!r}: {path} cannot be loaded as a Python module")
            mod = importlib.util.module_from_spec(mod_spec)
            mod_spec.loader.exec_module(mod)
        else:
            import importlib

            mod = importlib.import_module(target)
    except ManifestError:
        raise
    except ModuleNotFoundError as exc:
        raise ManifestError(f"manifest {spec!r}: no module named {exc.name!r}") from exc
    except Exception as exc:  # the manifest module itself raised while importing
        raise ManifestError(f"manifest {spec!r}: importing it failed: {type(exc).__name__}: {exc}") from exc
    if not hasattr(mod, attr):
        raise ManifestError(f"manifest {spec!r}: {target} has no attribute {attr!r}")
    course = getattr(mod, attr)
    if not isinstance(course, Course):
        raise ManifestError(f"manifest {spec!r}: {attr} is a {type(course).__name__}, not a Course")
    return course
