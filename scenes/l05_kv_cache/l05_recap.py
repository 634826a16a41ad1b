"""Lecture 5 recap and references: the key ideas one at a time, the papers (``data.references()``, nine of them on
two pages), and a one-sentence look ahead to Lecture 6 (FlashAttention).

    manim -pql scenes/l05_kv_cache/l05_recap.py Recap
"""
from __future__ import annotations

from scenes.kit.recap_scene import RecapScene
from scenes.l05_kv_cache.data import references

# (on the card, narrated): the card says it short, the narration says it in full sentences
POINTS = (
    ("Causal mask ⇒ past keys and values never change.",
     "To recap: under a causal mask, the keys and values of past positions never change when a token is "
     "appended, in any layer. That is why they can be cached, and why an encoder cannot be cached this way."),
    ("Cache K and V, never Q: one new row per step.",
     "Only keys and values are kept. Each step computes one new query row against the cache and appends one "
     "key row and one value row per layer."),
    ("Quadratic recompute → linear memory, per token.",
     "The cache trades quadratic recomputation for memory that grows linearly with the context: two times "
     "layers, times key value heads, times head size, times bytes, for every token."),
    ("Decode needs the lower-right mask, positions from the mask.",
     "When queries are fewer than keys, the mask must be aligned to the lower right, and padded rows take "
     "their positions from the attention mask. Get either wrong and the output is silently wrong."),
    ("Decode is memory-bound: bytes, not FLOPs.",
     "Decoding reads every weight and the whole cache for each new token, so memory bandwidth, not "
     "arithmetic, sets its speed. Split-K decoding spreads that read across the GPU."),
)

# the first index of page 2: five papers, then four
PAGES = (5,)


class Recap(RecapScene):
    POINTS = POINTS
    PAGES = PAGES
    REFERENCE_SPEECH = (
        ("These are the papers behind this lecture: the Transformer, multi-query attention, efficiently scaling "
         "transformer inference, PagedAttention, and the Orca serving system,"),
        ("then the two papers on speculative decoding and speculative sampling, Mistral's rolling buffer cache, "
         "and Flash-Decoding."),
    )
    NEXT = (6, "Flash Attention", "Next: attention that never writes the score matrix",
            "Decoding is bound by memory traffic, and so is the score matrix of a long prompt. In Lecture 6, we "
            "see how FlashAttention computes exact attention in tiles, without ever writing that matrix to "
            "memory.")

    def references(self):
        return references()
