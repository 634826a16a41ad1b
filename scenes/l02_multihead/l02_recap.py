"""Lecture 2 recap and references: the key ideas one at a time, the papers (``data.references()``), and a
one-sentence look ahead to Lecture 3 (rotary positional embeddings).

    manim -pql scenes/l02_multihead/l02_recap.py Recap
"""
from __future__ import annotations

from scenes.kit.recap_scene import RecapScene
from scenes.l02_multihead.data import references

# (on the card, narrated): the card says it short, the narration says it in full sentences
POINTS = (
    ("One head averages: its output stays inside the values' hull.",
     "To recap: one attention head outputs a weighted average of the values, so it can blur two tokens together "
     "but not keep them apart. Several heads can each look somewhere else."),
    ("Every head projects the whole model vector.",
     "Every head's projection reads the whole model vector. What gets split into heads is the projection's "
     "output, not the embedding."),
    ("Split = view to (B, L, H, dₕ), then transpose.",
     "Splitting is a view to batch, length, heads and head dimension, then a transpose that puts heads before "
     "length. Without the transpose, a head mixes different tokens."),
    ("Fixed width: parameters and FLOPs do not depend on H.",
     "At a fixed model width, the parameter count and the attention FLOPs do not depend on the number of heads. "
     "The scale is one over the square root of the head dimension."),
    ("Trained heads specialise: previous-token, induction.",
     "Trained heads specialise, in ways nobody designed: previous-token heads, and induction heads that copy "
     "what followed the last time a token appeared."),
    ("Concat, then Wᴼ = the sum of each head's write.",
     "Concatenating and projecting is the same as adding each head's own write into the residual stream."),
    ("Heads are a batch axis, and split across devices.",
     "And heads are independent, so they run as one batched call, and split across devices with a single "
     "all-reduce."),
)
FIRST_PAGE = 4  # references on the first page: two pages keep the text at SIZES.LABEL


class Recap(RecapScene):
    POINTS = POINTS
    PAGES = (FIRST_PAGE,)
    REFERENCE_SPEECH = (
        ("These are the papers behind this lecture: the Transformer paper and its head-count ablation, the "
         "studies that pruned heads and looked at what BERT's heads attend to,"),
        ("the circuits and induction-head work, the low-rank bottleneck of small heads, Megatron's tensor "
         "parallelism, and the warning that attention is not explanation."),
    )
    NEXT = (3, "Rotary Positional Embeddings", "Next: where a token is, as a rotation",
            "Attention itself has no idea where a token sits in the sentence. In Lecture 3, we give it "
            "positions, by rotating queries and keys: rotary positional embeddings.")

    def references(self):
        return references()
