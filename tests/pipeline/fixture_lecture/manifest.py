"""A fixture course for the pipeline tests: one lecture ("90") of two tiny scenes, plus a lecture
("91") whose second scene fails on purpose. Topic ids L90.x / L91.x exist only here."""

from dataclasses import replace
from pathlib import Path

from scenes.course import COURSE, Course, Lecture, SceneSpec
from scenes.kit.references import VASWANI

HERE = Path(__file__).resolve().parent
REL = HERE.relative_to(COURSE.root)

TOPICS = {
    "L90.1": "Alpha topic",
    "L90.2": "Beta topic",
    "L90.3": "Gamma topic",
    "L91.1": "Tiny topic",
}

SYNC = Lecture(
    id="90", slug="pipeline-fixture", title="Pipeline Fixture",
    description="Two tiny scenes that test the render and assembly pipeline <with> brackets.",
    package=str(REL),
    references=(VASWANI,),
    tags=("fixture", "pipeline test"),
    scenes=(
        SceneSpec(str(REL / "sync_scenes.py"), "FixtureAlpha", ("L90.1 Alpha topic", "L90.2 Beta topic")),
        SceneSpec(str(REL / "sync_scenes.py"), "FixtureBeta", ("L90.3 Gamma topic", "Recap")),
    ),
    thumbnail=("FixtureBeta", 2.5),  # its shape, fully drawn
    ready=True,
    topic_ids=("L90.1", "L90.2", "L90.3"),
)

FAILING = Lecture(
    id="91", slug="failing-fixture", title="Failing Fixture", description="One scene raises.",
    package=str(REL),
    scenes=(
        SceneSpec(str(REL / "broken_scenes.py"), "Tiny", ("L91.1 Tiny topic",)),
        SceneSpec(str(REL / "broken_scenes.py"), "Broken", ("L91.1 Broken topic",)),
    ),
    topic_ids=("L91.1",),
)

FIXTURE_COURSE = Course(title="Fixture Lectures", lectures=(SYNC, FAILING), topics=TOPICS, root=COURSE.root)

#: the same course with a wrong section name for FixtureBeta (for the mismatch test)
WRONG = replace(FIXTURE_COURSE, lectures=(
    replace(SYNC, scenes=(SYNC.scenes[0], replace(SYNC.scenes[1], sections=("L90.3 Gamma topic", "Summary")))),
    FAILING,
))
