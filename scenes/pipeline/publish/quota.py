"""YouTube quota costs and limits, read from youtube_limits.json (data, not code), and estimates."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from collections.abc import Iterable

from . import layout


@dataclass(frozen=True)
class Limits:
    figures_date: str
    figures_note: str
    buckets: dict
    costs: dict
    limits: dict

    def cost(self, method: str) -> tuple[str, int]:
        entry = self.costs[method]
        return entry["bucket"], int(entry["cost"])

    def limit(self, name: str):
        return self.limits[name]


@lru_cache(maxsize=4)
def load_limits(path: Path = layout.LIMITS_FILE) -> Limits:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return Limits(
        figures_date=data["figures_date"],
        figures_note=data.get("figures_note", ""),
        buckets=data["buckets"],
        costs=data["costs"],
        limits=data["limits"],
    )


@dataclass(frozen=True)
class Estimate:
    calls: Counter  # method -> number of calls
    per_bucket: dict  # bucket -> total (units or calls)
    limits: Limits

    def lines(self) -> list[str]:
        lim = self.limits
        out = [f"Quota estimate (unit costs as of {lim.figures_date}; see docs/publishing.md):"]
        if not self.calls:
            out.append("  no API calls")
            return out
        for method in sorted(self.calls):
            bucket, cost = lim.cost(method)
            unit = lim.buckets[bucket]["unit"]
            n = self.calls[method]
            out.append(f"  {method:<22} {n:>3} x {cost:>4} = {n * cost:>6,} {unit} ({bucket} bucket)")
        for bucket, total in sorted(self.per_bucket.items()):
            info = lim.buckets[bucket]
            daily = int(info["daily_limit"])
            line = f"  {bucket} bucket: {total:,} of {daily:,} {info['unit']} per day"
            if total > daily:
                line += " -- MORE THAN ONE DAY: the run will stop on quota; rerun tomorrow to finish"
            out.append(line)
        return out


def estimate(methods: Iterable[str], limits: Limits | None = None) -> Estimate:
    lim = limits or load_limits()
    calls = Counter(methods)
    per_bucket: dict[str, int] = {}
    for method, n in calls.items():
        bucket, cost = lim.cost(method)
        per_bucket[bucket] = per_bucket.get(bucket, 0) + n * cost
    return Estimate(calls=calls, per_bucket=per_bucket, limits=lim)
