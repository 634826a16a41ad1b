"""Lecture 4 recap and references: the key ideas one at a time, the papers (``data.references()``, 17 of them on
three pages), and a one-sentence look ahead to Lecture 5 (the KV cache).

    manim -pql scenes/l04_context/l04_recap.py Recap
"""
from __future__ import annotations

from scenes.kit.recap_scene import RecapScene
from scenes.l04_context.data import references

# (on the card, narrated): the card says it short, the narration says it in full sentences
POINTS = (
    ("Scores grow with n², the KV cache with n.",
     "To recap: the score matrix grows with the square of the context, while the key and value cache grows "
     "in a straight line."),
    ("Quadratic memory from the start; quadratic FLOPs only at long n.",
     "The memory for materialised scores is quadratic from the first token, but at a few thousand tokens the "
     "feed-forward layers still cost more arithmetic than attention does."),
    ("Prefill is compute-bound; decode is memory-bound.",
     "Prefill reads each byte many times and is bound by compute. Decoding reads the whole cache for every "
     "new token, and is bound by memory bandwidth."),
    ("Needle tests: necessary, not sufficient.",
     "A needle in a haystack test checks retrieval at each length and depth. Passing it is necessary, but "
     "it is not sufficient: harder tasks fail earlier."),
    ("Claimed context ≠ effective context.",
     "A model's claimed context and its effective context are different numbers, and perplexity alone can "
     "hide the gap."),
    ("Exact kernels, smaller caches, sparsity, recurrence.",
     "The way forward combines exact kernels that avoid the quadratic memory, smaller caches, local and "
     "sparse attention, and recurrent hybrids: each one trades something."),
)

# the first indices of pages 2 and 3: six papers per page but the last
PAGES = (6, 12)


class Recap(RecapScene):
    POINTS = POINTS
    PAGES = PAGES
    REFERENCE_SPEECH = (
        ("These are the papers behind this lecture: the Transformer, the scaling laws, BERT and GPT-3, "
         "FlashAttention, and position interpolation,"),
        ("then YaRN, Code Llama and Mistral, the attention sinks of StreamingLLM, Ring Attention, and Lost in "
         "the Middle,"),
        "and RULER, with the Gemini, Llama 3 and Gemma reports for the context lengths of today's models.",
    )
    NEXT = (5, "KV Cache", "Next: the cache that makes decoding fast",
            "The key and value cache came up again and again in this lecture. In Lecture 5, we build it, measure "
            "it, and see what goes wrong when it is used carelessly.")

    def references(self):
        return references()
