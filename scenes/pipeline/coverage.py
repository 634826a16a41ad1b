"""Topic coverage of the course manifest: which outline topics have sections, which lectures are
ready. ``--check`` exits 1 when a ready lecture has an uncovered topic or the manifest has
structural problems; ``--probe`` also runs each ready scene's construct() (dry run, silent) and
compares its real sections with the manifest. Exit codes: docs/exit-codes.md."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from scenes.course import Course
from scenes.pipeline import cli


def table(course: Course, lectures=None) -> str:
    lectures = list(lectures if lectures is not None else course.lectures)
    lines = []
    n_topics = sum(len(x.topic_ids) for x in lectures)
    n_cov = sum(len(x.topic_ids) - len(x.uncovered_topics()) for x in lectures)
    ready = [x.id for x in lectures if x.ready]
    lines.append(f"{course.title}: {len(lectures)} lectures, {n_topics} topics, {n_cov} covered by a section; "
                 f"ready: {', '.join(ready) or 'none'}")
    lines.append("")
    lines.append(f"{'lecture':<44} {'ready':<6} {'scenes':>6} {'covered':>8}")
    for x in lectures:
        cov = len(x.topic_ids) - len(x.uncovered_topics())
        lines.append(f"{x.id + ' ' + x.title:<44} {'yes' if x.ready else 'no':<6} {len(x.scenes):>6} "
                     f"{f'{cov}/{len(x.topic_ids)}':>8}")
    lines.append("")
    lines.append(f"{'topic':<7} {'title':<44} covered by")
    for x in lectures:
        cov = x.covered_topics()
        for t in x.topic_ids:
            where = "; ".join(f"{sc.module_name}:{sc.scene} «{name}»" for sc, name in cov.get(t, [])) or "—"
            lines.append(f"{t:<7} {course.topics.get(t, '?')[:44]:<44} {where}")
    return "\n".join(lines)


def problems(course: Course, lectures=None, probe: bool = False) -> list[str]:
    lectures = list(lectures if lectures is not None else course.lectures)
    out = list(course.validate())
    for x in lectures:
        if x.ready:
            missing = x.uncovered_topics()
            if missing:
                out.append(f"lecture {x.id} is ready but topics {', '.join(missing)} have no section")
    if probe:
        from scenes.pipeline.probe import check_manifest

        out.extend(check_manifest(course, [x for x in lectures if x.ready]))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/coverage.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when a ready lecture has an uncovered topic")
    ap.add_argument("--probe", action="store_true", help="also compare ready scenes' real sections (slow)")
    ap.add_argument("--lecture", default=None, help="only these lectures ('ready', 'all', 01, 01,03)")
    ap.add_argument("--manifest", help="course object, 'module:ATTR' or 'file.py:ATTR'")
    args = ap.parse_args(argv)
    try:
        course = cli.load_manifest(args.manifest)
        lectures = cli.select_lectures(course, args.lecture) if args.lecture else list(course.lectures)
    except cli.UsageError as exc:
        print(f"coverage: {exc}", file=sys.stderr)
        return cli.EXIT_USAGE
    print(table(course, lectures))
    found = problems(course, lectures, probe=args.probe)
    if found:
        print("\nproblems:")
        for p in found:
            print(f"  - {p}")
    elif args.check:
        print("\ncoverage check: OK")
    return 1 if (args.check or args.probe) and found else 0
