"""L04.5 Path from 2K to 100K+ tokens: a log-scale context axis with cited markers (each with its source
and the technique that enabled it, tagged with the lecture that explains it). Where a model is an
``attn_ref`` preset its context comes from the preset; the rest are citation data from the papers."""
from __future__ import annotations

from dataclasses import dataclass

import attn_ref as ar
from scenes.kit.data_builders import builder
from scenes.kit.references import (BROWN, CHEN_2023_PI, DAO_2022, DEVLIN, GEMINI, GEMMA_2025, JIANG_2023,
                                   LIU_2023_RING, LLAMA, PENG, ROZIERE, TOUVRON, Reference)

FU_2024 = Reference("Fu et al.", 2024, "Data Engineering for Scaling Language Models to 128K Context",
                    arxiv="2402.10171", venue="ICML 2024")
"""Not in the course catalogue (the plan marks its id [verify]; the id matches the paper's Hugging Face page)."""


@dataclass(frozen=True)
class Marker:
    name: str
    year: int
    context: int                   # tokens on the axis
    note: str                      # what the number is (trained, used, window …)
    technique: str
    lecture: str                   # the lecture that explains the technique ('' when none)
    source: str
    verify: bool                   # the plan marks the figure [verify]
    from_preset: bool              # the number is read from an attn_ref preset


@dataclass(frozen=True)
class Timeline:
    markers: tuple[Marker, ...]
    axis_min: int
    axis_max: int
    techniques: tuple[tuple[str, str, str], ...]   # (technique, lecture, a source)


@builder("L04.5")
def timeline() -> Timeline:
    """Context lengths from BERT's 512 to Gemini 1.5's 1M, in order, each with its source."""
    gpt2, llama2, mistral = ar.GPT2_SMALL, ar.LLAMA2_7B, ar.MISTRAL_7B
    m = (
        Marker("BERT", 2018, 512, "maximum sequence length (learned positions)", "learned absolute positions", "L03",
               DEVLIN.short(venue=False), False, False),
        Marker("GPT-2", 2019, gpt2.context, "n_positions (learned positions)", "learned absolute positions", "L03",
               "Radford et al. 2019 (no arXiv id); HF openai-community/gpt2 config.json", False, True),
        Marker("GPT-3", 2020, 2048, "context window", "alternating dense and locally banded sparse layers", "L07",
               BROWN.short(venue=False), False, False),
        Marker("Llama 2", 2023, llama2.context, "pre-training context", "RoPE, dense attention", "L03",
               TOUVRON.short(venue=False), False, True),
        Marker("Position Interpolation", 2023, 32768, "LLaMA 2048 → 32768 with ~1000 fine-tuning steps",
               "RoPE scaling", "L03", CHEN_2023_PI.short(venue=False), False, False),
        Marker("Code Llama", 2023, 16384, "trained on 16K sequences, RoPE base 10⁶; used up to 100K",
               "RoPE base raising", "L03", ROZIERE.short(venue=False), False, False),
        Marker("Code Llama (use)", 2023, 100_000, "extrapolation at inference", "RoPE base raising", "L03",
               ROZIERE.short(venue=False), False, False),
        Marker("Mistral 7B", 2023, mistral.context, f"context_len {mistral.context}, sliding window "
               f"W = {mistral.window}", "sliding window + rolling KV buffer", "L07", JIANG_2023.short(venue=False),
               False, True),
        Marker("YaRN", 2023, 131072, "Llama 2 extended to 128K", "RoPE scaling", "L03", PENG.short(venue=False),
               False, False),
        Marker("Llama 3.1", 2024, 131072, "128K context", "RoPE scaling + long-context continued pre-training",
               "L03", LLAMA.short(venue=False), False, False),
        Marker("Gemma 3", 2025, 131072, "128K context, local:global layers 5:1, W = 1024",
               "interleaved local/global attention", "L07", GEMMA_2025.short(venue=False), False, False),
        Marker("Gemini 1.5", 2024, 1_000_000, "1M in production; up to 10M tokens in research experiments [verify]",
               "not published", "", GEMINI.short(venue=False), True, False),
    )
    techniques = (
        ("exact IO-aware kernels (FlashAttention)", "L06", DAO_2022.short(venue=False)),
        ("RoPE scaling (PI, NTK, YaRN, Llama 3.1)", "L03", PENG.short(venue=False)),
        ("KV reduction (cache, GQA, MLA)", "L05, L08, L09", "the KV-cache lectures"),
        ("local / sparse attention", "L07", JIANG_2023.short(venue=False)),
        ("recurrent / SSM hybrids", "L10", "the linear-attention lecture"),
        ("long-data continued pre-training", "", FU_2024.short(venue=False)),
        ("sequence / context parallelism (Ring Attention)", "", LIU_2023_RING.short(venue=False)),
    )
    return Timeline(m, 256, 10_000_000, techniques)
