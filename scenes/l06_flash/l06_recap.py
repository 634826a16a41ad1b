"""Lecture 6 recap and references: the key ideas one at a time, the papers (``data.references()``, seven of them on
two pages), and a one-sentence look ahead to Lecture 7 (sliding-window and sparse attention).

    manim -pql scenes/l06_flash/l06_recap.py Recap
"""
from __future__ import annotations

from scenes.kit.recap_scene import RecapScene
from scenes.l06_flash.data import references

# (on the card, narrated): the card says it short, the narration says it in full sentences
POINTS = (
    ("Attention is bound by memory traffic, not arithmetic.",
     "To recap: standard attention writes the score matrix to high-bandwidth memory and reads it back, pass after "
     "pass, so its speed is set by bytes moved, not by arithmetic."),
    ("Tiles + online softmax: exact, never writes S or P.",
     "FlashAttention computes the same exact result in tiles. A running maximum and a running sum rescale the "
     "partial output, so the score matrix never leaves the chip."),
    ("More FLOPs, far fewer bytes; O(N) extra memory.",
     "It does more arithmetic, not less, and far less memory traffic. It keeps one log-sum-exp per row, so the "
     "extra memory grows linearly, and the backward pass recomputes the scores from it."),
    ("FA-1 loops over K/V outside, FA-2 over Q.",
     "FlashAttention 1 puts the key and value blocks in its outer loop and writes the output back after every "
     "block. FlashAttention 2 puts the query blocks outside, keeps the output on chip, and divides once."),
    ("Count FLOPs with the causal flag; name the GPU.",
     "Performance figures are only honest with the causal flag counted, the backend named, and the GPU stated. "
     "A paper's H100 figures and our H200 run are not a race."),
)

# the first index of page 2: four papers, then three
PAGES = (4,)


class Recap(RecapScene):
    POINTS = POINTS
    PAGES = PAGES
    REFERENCE_SPEECH = (
        ("These are the papers behind this lecture: FlashAttention, FlashAttention 2 and FlashAttention 3, and the "
         "online normalizer for softmax,"),
        "then self-attention without quadratic memory, FlexAttention, and the Triton compiler.",
    )
    NEXT = (7, "Sliding Window & Sparse Attention", "Next: attend to fewer keys",
            "FlashAttention computes every score, only faster. In Lecture 7, we stop computing most of them: sliding "
            "windows and sparse patterns that let each token attend to a few keys.")

    def references(self):
        return references()
