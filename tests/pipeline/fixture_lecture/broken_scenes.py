"""Fixture scenes for the failure-reporting test: one raises, one renders a few frames."""

from manim import Dot, FadeIn, Scene


class Broken(Scene):
    def construct(self) -> None:
        raise RuntimeError("this fixture scene fails on purpose")


class Tiny(Scene):
    def construct(self) -> None:
        self.next_section("L90.1 Tiny topic")
        self.play(FadeIn(Dot()), run_time=0.2)
