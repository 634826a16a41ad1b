"""Lecture 1 recap and references: the key ideas one at a time, the papers (``data.references()``), and a
one-sentence look ahead to Lecture 2 (multi-head attention).

    manim -pql scenes/l01_fundamentals/l01_recap.py Recap
"""
from __future__ import annotations

from scenes.kit.recap_scene import RecapScene
from scenes.l01_fundamentals.data import references

# (on the card, narrated): the card says it short, the narration says it in full sentences
POINTS = (
    ("Every token reads every other token in one step.",
     "To recap: attention lets every token read every other token directly, in one step, instead of "
     "along a chain."),
    ("Projections give each token a query, a key, a value.",
     "Three learned projections give each token a query, a key and a value."),
    ("Scores are query–key dot products, scaled by 1/√dₖ.",
     "Scores are dot products of queries with keys, divided by the square root of d_k to keep their variance "
     "near one."),
    ("Softmax runs along each row: weights sum to 1.",
     "Softmax runs along each row, so every query's weights add up to one."),
    ("The output is the weighted sum of the values.",
     "The output is the weighted sum of the values."),
    ("Masks turn scores to −∞ and weights to exactly 0.",
     "And masks turn forbidden scores into minus infinity, and their weights into exact zeros: for causality, "
     "for padding, and aligned to the lower right when decoding."),
)
HALF = 4  # references per page: two pages keep the text at SIZES.LABEL


class Recap(RecapScene):
    POINTS = POINTS
    PAGES = (HALF,)
    REFERENCE_SPEECH = (
        ("These are the papers behind this lecture, from backpropagation and Elman's recurrent networks "
         "to the LSTM,"),
        ("then sequence to sequence learning, the attention of Bahdanau and of Luong, and the Transformer "
         "of Vaswani and colleagues."),
    )
    NEXT = (2, "Multi-Head Attention", "Next: many attention patterns at once",
            "In Lecture 2, we run several attention heads side by side, each free to learn its own "
            "pattern: multi-head attention.")

    def references(self):
        return references()
