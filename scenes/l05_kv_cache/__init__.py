"""Lecture 5: KV Cache (topics L05.1–L05.6). The data layer lives in ``data``; scenes follow."""
