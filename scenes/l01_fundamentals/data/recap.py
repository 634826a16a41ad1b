"""The recap's references card: the papers of Lecture 1, the same list the course manifest gives the
video description (``scenes.course``, Lecture 01's ``references``), oldest first.
"""
from __future__ import annotations

from scenes.course import COURSE
from scenes.kit.data_builders import builder
from scenes.kit.references import Reference


@builder("recap")
def references() -> tuple[Reference, ...]:
    """The references card, oldest first: the manifest's Lecture 1 references."""
    return tuple(ref for ref in COURSE.lecture("01").references)  # a new tuple each time it is built
