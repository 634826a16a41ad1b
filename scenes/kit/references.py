"""One ``Reference`` type for the whole course: the manifest's reference lists (video descriptions),
citation lines on slides, references cards and the equations' sources all use it.

    VASWANI.cite         -> "Vaswani et al. 2017"
    VASWANI.short()      -> "Vaswani et al. 2017 · Attention Is All You Need · arXiv:1706.03762"
    VASWANI.text()       -> "Vaswani et al. 2017, Attention Is All You Need. arXiv:1706.03762 https://…"

The papers the course cites live here once, as module constants; a lecture's references card lists
the ones it uses. Pure Python (no manim): the manifest and data modules import it.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Reference"]


@dataclass(frozen=True)
class Reference:
    """A paper or book: authors as cited ("Vaswani et al."), year, title, and where to find it
    (``arxiv`` id, else ``venue`` — a journal or proceedings — or ``url``)."""

    authors: str
    year: int
    title: str
    arxiv: str | None = None
    venue: str | None = None
    url: str | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if not self.authors.strip() or not self.title.strip():
            raise ValueError(f"a reference needs authors and a title, got {self!r}")
        if not isinstance(self.year, int) or not 1900 < self.year < 2100:
            raise ValueError(f"reference {self.authors!r}: year must be an int like 2017, got {self.year!r}")

    @property
    def cite(self) -> str:
        """``Vaswani et al. 2017``."""
        return f"{self.authors} {self.year}"

    def short(self, venue: bool = True) -> str:
        """The citation line at the bottom of a slide: authors year · title · venue · arXiv id
        (``venue=False`` leaves the venue out when there is an arXiv id)."""
        parts = [self.cite, self.title]
        if self.venue and (venue or not self.arxiv):
            parts.append(self.venue)
        if self.arxiv:
            parts.append(f"arXiv:{self.arxiv}")
        return " \u00b7 ".join(parts)

    def text(self) -> str:
        """One line for a video description: ``cite, title. arXiv:id https://arxiv.org/abs/id``."""
        s = f"{self.cite}, {self.title}"
        if self.arxiv:
            s += f". arXiv:{self.arxiv} https://arxiv.org/abs/{self.arxiv}"
        elif self.venue:
            s += f". {self.venue}" + (f" {self.url}" if self.url else "")
        elif self.url:
            s += f". {self.url}"
        return s

    @property
    def source(self) -> str:
        """``arXiv:1706.03762``, else the venue, else the URL."""
        return f"arXiv:{self.arxiv}" if self.arxiv else (self.venue or self.url or "")


# ==============================================================================================
# Catalogue: the papers and books the course cites, once each (append-only).
# Names: the first author's surname in UPPERCASE, with a suffix only to tell two apart
# (BENGIO_1994). Sources of the equation registry (scenes/kit/equations):
# ==============================================================================================
VASWANI = Reference("Vaswani et al.", 2017, "Attention Is All You Need", arxiv="1706.03762", venue="NeurIPS 2017")
BAHDANAU = Reference("Bahdanau, Cho & Bengio", 2014,
                     "Neural Machine Translation by Jointly Learning to Align and Translate",
                     arxiv="1409.0473", venue="ICLR 2015")
ELMAN = Reference("Elman", 1990, "Finding Structure in Time", venue="Cognitive Science 14(2), 179–211")
BRIDLE = Reference("Bridle", 1990, "Probabilistic Interpretation of Feedforward Classification Network Outputs, "
                   "with Relationships to Statistical Pattern Recognition",
                   venue="Neurocomputing, NATO ASI Series F 68, Springer, 227–236")
GOODFELLOW = Reference("Goodfellow, Bengio & Courville", 2016, "Deep Learning", venue="MIT Press",
                       url="https://www.deeplearningbook.org")
HINTON = Reference("Hinton, Vinyals & Dean", 2015, "Distilling the Knowledge in a Neural Network",
                   arxiv="1503.02531")
MILAKOV = Reference("Milakov & Gimelshein", 2018, "Online normalizer calculation for softmax", arxiv="1805.02867")
