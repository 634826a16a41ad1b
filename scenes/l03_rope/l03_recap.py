"""Lecture 3 recap and references: the key ideas one at a time, the papers (``data.references()``), and a
one-sentence look ahead to Lecture 4 (the context length challenge).

    manim -pql scenes/l03_rope/l03_recap.py Recap
"""
from __future__ import annotations

from scenes.kit.recap_scene import RecapScene
from scenes.l03_rope.data import references

# (on the card, narrated): the card says it short, the narration says it in full sentences
POINTS = (
    ("Without positions, attention cannot tell word order.",
     "To recap: without positions, attention treats a sentence as a bag of tokens. Shuffle the words, and the "
     "outputs are only shuffled."),
    ("Relative schemes: the score depends on i − j only.",
     "Relative schemes make the score depend only on how far apart two tokens are, so the score grid is constant "
     "along its diagonals."),
    ("RoPE rotates q and k, plane by plane, by position.",
     "Rotary embeddings rotate the query and the key, plane by plane, by an angle proportional to the position. "
     "The dot product then sees only the difference."),
    ("Fast planes resolve neighbours, slow planes distance.",
     "Fast planes turn once every few tokens and resolve neighbours; slow planes turn once in tens of thousands "
     "of tokens."),
    ("Half vs interleaved pairing: a silent bug.",
     "Real code pairs dimensions in two ways, half and interleaved. Mixing them up raises no error; it just "
     "breaks the model quietly."),
    ("Scaling stretches slow planes: PI, NTK, YaRN, Llama 3.",
     "And to reach longer contexts, position interpolation, NTK-aware scaling, YaRN and Llama 3 stretch the slow "
     "planes, and the best of them leave the fast planes alone."),
)


class Recap(RecapScene):
    POINTS = POINTS
    PAGES = (4, 8)
    REFERENCE_SPEECH = (
        ("These are the papers behind this lecture: the Transformer's sinusoids, relative positions from Shaw and "
         "colleagues and from T5, and RoFormer, where rotary embeddings come from,"),
        ("then ALiBi, the two studies showing that decoders learn positions without being given any, and "
         "position interpolation,"),
        "and YaRN, Code Llama, Llama 3 and LongRoPE, which took these ideas to long contexts in practice.",
    )
    NEXT = (4, "The Context Length Challenge", "Next: what grows with the context",
            "Longer contexts cost more than positions. In Lecture 4, we measure what grows with the context: "
            "memory, compute, and whether a model really uses what it is given.")

    def references(self):
        return references()
