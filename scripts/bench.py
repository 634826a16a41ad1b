#!/usr/bin/env python
"""Benchmarks for the performance slides.

  python scripts/bench.py run [--suite prefill ...] [--device cpu|cuda] [--profile cpu|gpu|smoke] [--out F]
  python scripts/bench.py merge PART.json ... --out F   # one machine's per-suite files into one
  python scripts/bench.py report        # benchmarks/README.md + PNG charts from every result file

Exit codes (docs/exit-codes.md): 0 done; 2 bad arguments (usage + the argument named); 3 the device
asked for is not available; 4 a result file cannot be read or is invalid; 5 an output cannot be written;
1 anything else (a bug: the traceback is printed).
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from attn_ref._cli import EXIT_DEVICE, EXIT_READ, EXIT_WRITE, output_folder_problem, positive_int
from attn_ref.bench.run import run_benchmarks
from attn_ref.bench.suites import PROFILES, SUITES


def _fail(code: int, message: str) -> int:
    print(f"bench.py: error: {message}", file=sys.stderr)
    return code


def _device(ap: argparse.ArgumentParser, text: str) -> torch.device:
    """--device: cpu, cuda or cuda:N (argument error otherwise)."""
    try:
        device = torch.device(text)
    except RuntimeError:
        ap.error(f"argument --device: expected cpu, cuda or cuda:N, got {text!r}")
    if device.type not in ("cpu", "cuda"):
        ap.error(f"argument --device: expected cpu, cuda or cuda:N, got {text!r}")
    return device


def _device_problem(device: torch.device) -> str | None:
    if device.type != "cuda":
        return None
    if not torch.cuda.is_available():
        return f"--device {device}: no CUDA GPU is available on this machine (use --device cpu)"
    if device.index is not None and device.index >= torch.cuda.device_count():
        return f"--device {device}: this machine has {torch.cuda.device_count()} CUDA GPU(s)"
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run suites and write a result file")
    r.add_argument("--suite", action="append", choices=sorted(SUITES), help="repeatable; default: all")
    r.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    r.add_argument("--profile", choices=sorted(PROFILES))
    r.add_argument("--dtype", choices=["float16", "bfloat16", "float32"])
    r.add_argument("--threads", type=positive_int, help="torch CPU threads, >= 1 (default: torch's)")
    r.add_argument("--out", help="result file (default benchmarks/results/<machine>.json)")
    rep = sub.add_parser("report", help="write benchmarks/README.md and charts")
    rep.add_argument("--results", default=None, help="folder of result files")
    mg = sub.add_parser("merge", help="merge per-suite result files of one machine into one")
    mg.add_argument("parts", nargs="+")
    mg.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    out = getattr(args, "out", None)
    if out is not None:  # checked before any work: a run can take an hour
        problem = output_folder_problem(Path(out).parent)
        if problem:
            {"run": r, "merge": mg}[args.cmd].error(f"argument --out {out}: {problem}")
    if args.cmd == "run":
        device = _device(r, args.device)
        problem = _device_problem(device)
        if problem:
            return _fail(EXIT_DEVICE, problem)
        dtype = getattr(torch, args.dtype) if args.dtype else None
        try:
            res = run_benchmarks(args.suite, str(device), dtype, args.profile, out,
                                 command="python scripts/bench.py " + " ".join(argv or sys.argv[1:]),
                                 threads=args.threads)
        except OSError as e:
            return _fail(EXIT_WRITE, f"cannot write {e.filename or out}: {e.strerror or e}")
        print(f"wrote {res['path']} ({len(res['records'])} records, {res['provenance']['wall_s']} s)")
    elif args.cmd == "merge":
        from attn_ref.bench.results import load_result, merge_results, write_result
        parts = []
        for p in args.parts:
            try:
                parts.append(load_result(p))
            except (OSError, ValueError) as e:  # missing, unreadable, not JSON, wrong schema
                return _fail(EXIT_READ, f"result file {p}: {e.strerror if isinstance(e, OSError) else e}")
        try:
            merged = merge_results(parts)
        except ValueError as e:
            return _fail(EXIT_READ, f"cannot merge {args.parts}: {e}")
        try:
            print(write_result(merged, out))
        except OSError as e:
            return _fail(EXIT_WRITE, f"cannot write {e.filename or out}: {e.strerror or e}")
    else:
        from attn_ref.bench.report import write_report
        from attn_ref.bench.results import RESULTS_DIR, load_result
        folder = Path(args.results) if args.results else RESULTS_DIR
        if not folder.is_dir():  # the report goes next to it: never into a mistyped folder's parent
            rep.error(f"argument --results {args.results}: not a folder")
        files = sorted(folder.glob("*.json"))
        if not files:
            return _fail(EXIT_READ, f"--results {folder}: no result files (*.json) in it")
        for p in files:  # each named on failure, before anything is written
            try:
                load_result(p)
            except (OSError, ValueError) as e:
                return _fail(EXIT_READ, f"result file {p}: {e.strerror if isinstance(e, OSError) else e}")
        try:
            print(write_report(args.results))
        except OSError as e:
            return _fail(EXIT_WRITE, f"cannot write {e.filename}: {e.strerror or e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
