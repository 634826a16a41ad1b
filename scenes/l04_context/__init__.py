"""Lecture 4: The Context Length Challenge (topics L04.1–L04.7). The data layer lives in ``data``; scenes follow."""
