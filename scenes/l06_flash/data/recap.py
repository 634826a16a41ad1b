"""The recap's references card: the papers of Lecture 6, the list the course manifest gives the video
description (``scenes.course``, Lecture 06's ``references``)."""
from __future__ import annotations

from scenes.course import COURSE
from scenes.kit.data_builders import builder
from scenes.kit.references import Reference


@builder("recap")
def references() -> tuple[Reference, ...]:
    """The references card: the manifest's Lecture 6 references."""
    return tuple(ref for ref in COURSE.lecture("06").references)  # a new tuple each time it is built
