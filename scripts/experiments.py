#!/usr/bin/env python
"""The lab's experiments (attn_ref.lab): tiny models trained on synthetic tasks, one JSON result each.

  python scripts/experiments.py list                      # names, descriptions, committed-result status
  python scripts/experiments.py run head_specialisation   # full run -> results/experiments/<name>.json
  python scripts/experiments.py run all                   # every experiment, one after the other
  python scripts/experiments.py run needle_haystack --quick          # seconds; written under --out-dir
  python scripts/experiments.py run all --threads 1 --no-progress
  python scripts/experiments.py run all --checkpoint-dir /tmp/lab-ck   # interrupted? run it again: it resumes

Full runs overwrite the committed file; quick runs go to --out-dir (default: a temp folder) and never
touch the committed results. The thread count defaults to the configuration's (2); --threads changes
only speed (results are bitwise identical for 1 and 2 threads, tested).

Exit codes (docs/exit-codes.md): 0 done; 2 bad arguments (usage + the argument named: an unknown
experiment, --threads < 1, an output folder that cannot be used); 4 a checkpoint cannot be used
(unreadable, damaged or another configuration's: the path is named); 5 an output cannot be written;
1 anything else (a bug: the traceback is printed).
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from attn_ref._cli import EXIT_READ, EXIT_WRITE, output_folder_problem, positive_int
from attn_ref.lab import (EXPERIMENTS, CheckpointError, ResultError, list_experiments, load_result, result_path,
                          run_experiment)


def _summary(result: dict) -> str:
    m = result["metrics"]
    name = result["name"]
    try:
        if name == "head_specialisation":
            p, i = m["best_prev_token_head"], m["best_induction_head"]
            return (f"prev-token L{p['layer']}H{p['head']}={p['score']:.3f}, induction L{i['layer']}H{i['head']}="
                    f"{i['score']:.3f}, repeated-token acc {m['repeated_token_accuracy']:.3f}")
        if name == "head_count":
            return ", ".join(f"{cond}: " + ", ".join(f"{h} head{'s' if h != '1' else ''} acc {v['accuracy']:.3f}"
                                                    for h, v in runs.items()) for cond, runs in m["runs"].items())
        if name == "gqa_uptraining":
            steps = m["eval_steps"]
            return "; ".join(f"{g} " + ", ".join(
                f"{meth} acc {v['accuracy_stats']['mean'][0]:.2f}→{v['accuracy_stats']['mean'][steps.index(40)]:.2f}"
                f" (0→40 steps)" for meth, v in c["methods"].items()) for g, c in m["converted"].items())
        if name == "needle_haystack":
            sw = m["sliding_window"]
            return (", ".join(f"{s}: {[round(a, 2) for a in v['accuracy_by_length']]}" for s, v in m["schemes"].items())
                    + "; multi-needle rope " + str([round(a, 2) for a in m["multi_needle"]["schemes"]["rope"]
                                                     ["accuracy_by_length"]])
                    + f"; window {sw['window']}: acc {sw['mean_accuracy_within_one_hop']:.2f} within one hop, "
                      f"{sw['mean_accuracy_beyond_reach']:.2f} beyond reach {sw['reach']}")
        if name == "attention_noise":
            return ", ".join(f"{k}: acc {v['accuracy']:.3f}, needle {v['needle_mass']:.3f} vs distractors "
                             f"{v['distractor_mass']:.3f}" for k, v in m["models"].items())
        if name == "routing_balance":
            return ", ".join(f"{k}: final CV {[round(c, 3) for c in v['final_cv']]}" for k, v in m["runs"].items())
        if name == "recall_capacity":
            return ", ".join(f"{k}: {[round(a, 2) for a in v['accuracy']]}" for k, v in m["models"].items())
    except (KeyError, TypeError):
        pass
    return ""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the experiments")
    r = sub.add_parser("run", help="run one experiment, several, or all")
    r.add_argument("names", nargs="+", help=f"'all' or some of {list_experiments()}")
    r.add_argument("--quick", action="store_true", help="the shortened configuration (seconds)")
    r.add_argument("--threads", type=positive_int,
                   help="torch intra-op threads, >= 1 (default: the configuration's, 2)")
    r.add_argument("--out-dir", help="where quick results go (default: a temp folder); full runs write "
                                     "results/experiments/<name>.json unless this is given")
    r.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    r.add_argument("--checkpoint-dir", help="checkpoint each training there; rerun the same command to resume")
    args = ap.parse_args(argv)

    if args.cmd == "list":
        for name, e in EXPERIMENTS.items():
            try:
                res = load_result(name)
                status = f"committed ({res['provenance']['date']}, {res['provenance']['wall_time_s']} s)"
            except ResultError:
                status = "no result yet"
            print(f"{name:22s} {status}\n    {e.description}")
        return 0

    names = list_experiments() if args.names == ["all"] else args.names
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
        r.error(f"unknown experiment(s) {unknown}; expected 'all' or some of {list_experiments()}")
    for flag, folder in (("--out-dir", args.out_dir), ("--checkpoint-dir", args.checkpoint_dir)):
        problem = folder and output_folder_problem(folder)
        if problem:  # checked before any training
            r.error(f"argument {flag} {folder}: {problem}")
    out_dir = Path(args.out_dir) if args.out_dir else (
        Path(tempfile.gettempdir()) / "attn_ref_lab_quick" if args.quick else None)
    command = "python scripts/experiments.py " + " ".join(argv if argv is not None else sys.argv[1:])
    for name in names:
        t0 = time.perf_counter()
        path = (out_dir / f"{name}{'.quick' if args.quick else ''}.json") if out_dir else result_path(name)
        try:
            res = run_experiment(name, quick=args.quick, progress=not args.no_progress, threads=args.threads,
                                 write=True, path=path, command=command, checkpoint_dir=args.checkpoint_dir)
        except CheckpointError as e:
            print(f"experiments.py: error: {e}", file=sys.stderr)
            return EXIT_READ
        except OSError as e:
            print(f"experiments.py: error: cannot write {e.filename or path}: {e.strerror or e}", file=sys.stderr)
            return EXIT_WRITE
        print(f"{name}: {time.perf_counter() - t0:.1f} s -> {path}\n    {_summary(res)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
