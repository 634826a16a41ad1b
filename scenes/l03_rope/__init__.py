"""Lecture 3: Rotary Positional Embeddings (topics L03.1–L03.5). The data layer lives in ``data``; scenes follow."""
