"""What the pipeline scripts share on the command line: argument types that refuse bad numbers
while parsing, and loading the course and selecting lectures with one-line errors.

A script's ``main`` catches :class:`UsageError` and prints ``<prog>: <message>`` (exit 2, as argparse
does for its own errors)."""

from __future__ import annotations

import argparse
import math

from scenes.course import Course, Lecture, ManifestError, load_course

EXIT_USAGE = 2


class UsageError(Exception):
    """A bad argument value found after parsing (unknown lecture or scene, unloadable manifest)."""


def _whole_number_at_least(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number \u2265 {minimum}, not {text!r}")
        return value

    parse.__doc__ = f"argparse type: a whole number \u2265 {minimum}."
    return parse


positive_int = _whole_number_at_least(1)
non_negative_int = _whole_number_at_least(0)


def positive_seconds(text: str) -> float:
    """argparse type: a finite number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0, not {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0, not {text!r}")
    return value


def load_manifest(spec: str | None) -> Course:
    """``load_course(spec)``; an unloadable manifest becomes a UsageError naming ``--manifest``."""
    try:
        return load_course(spec)
    except ManifestError as exc:
        raise UsageError(f"--manifest: {exc}") from exc


def select_lectures(course: Course, selector: str) -> list[Lecture]:
    """``course.select(selector)``; an unknown lecture id becomes a UsageError naming ``--lecture``,
    the ids not found and the ids the course has."""
    if selector.strip().lower() not in ("ready", "all") and not selector.replace(",", "").strip():
        raise UsageError(f"--lecture {selector!r}: names no lecture; use 'ready', 'all' or ids such as "
                         f"{', '.join(x.id for x in course.lectures[:2])}")
    try:
        return course.select(selector)
    except KeyError:
        bad = []
        for part in (p.strip() for p in selector.split(",")):
            try:
                course.lecture(part)
            except KeyError:
                bad.append(repr(part))
        raise UsageError(f"--lecture {selector!r}: no lecture {', '.join(bad)}; the course has "
                         f"{', '.join(x.id for x in course.lectures)} (or use 'ready' or 'all')") from None


def course_and_lectures(ap: argparse.ArgumentParser, manifest: str | None,
                        selector: str) -> tuple[Course, list[Lecture]]:
    """:func:`load_manifest` then :func:`select_lectures` for a script: a bad ``--manifest`` or
    ``--lecture`` exits 2 through ``ap.error`` with the one-line message."""
    try:
        course = load_manifest(manifest)
        return course, select_lectures(course, selector)
    except UsageError as exc:
        ap.error(str(exc))


def scheduler_address(text: str) -> str:
    """argparse type: a Dask scheduler's address, ``tcp://HOST:PORT`` (or ``tls://HOST:PORT``)."""
    from urllib.parse import urlsplit

    value = text.strip()
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        port = None
        parts = None
    if parts is None or parts.scheme not in ("tcp", "tls") or not parts.hostname or port is None or parts.path:
        raise argparse.ArgumentTypeError(f"must be a scheduler address tcp://HOST:PORT, not {text!r}")
    return value
