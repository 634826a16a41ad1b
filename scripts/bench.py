#!/usr/bin/env python
"""Benchmarks for the performance slides.

  python scripts/bench.py run [--suite prefill ...] [--device cpu|cuda] [--profile cpu|gpu|smoke] [--out F]
  python scripts/bench.py merge PART.json ... --out F   # one machine's per-suite files into one
  python scripts/bench.py report        # benchmarks/README.md + PNG charts from every result file
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from attn_ref.bench.run import run_benchmarks
from attn_ref.bench.suites import PROFILES, SUITES


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run suites and write a result file")
    r.add_argument("--suite", action="append", choices=sorted(SUITES), help="repeatable; default: all")
    r.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    r.add_argument("--profile", choices=sorted(PROFILES))
    r.add_argument("--dtype", choices=["float16", "bfloat16", "float32"])
    r.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    r.add_argument("--out", help="result file (default benchmarks/results/<machine>.json)")
    rep = sub.add_parser("report", help="write benchmarks/README.md and charts")
    rep.add_argument("--results", default=None, help="folder of result files")
    mg = sub.add_parser("merge", help="merge per-suite result files of one machine into one")
    mg.add_argument("parts", nargs="+")
    mg.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    if args.cmd == "run":
        dtype = getattr(torch, args.dtype) if args.dtype else None
        res = run_benchmarks(args.suite, args.device, dtype, args.profile, args.out,
                             command="python scripts/bench.py " + " ".join(argv or sys.argv[1:]),
                             threads=args.threads)
        print(f"wrote {res['path']} ({len(res['records'])} records, {res['provenance']['wall_s']} s)")
    elif args.cmd == "merge":
        from attn_ref.bench.results import load_result, merge_results, write_result
        print(write_result(merge_results([load_result(p) for p in args.parts]), args.out))
    else:
        from attn_ref.bench.report import write_report
        print(write_report(args.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
