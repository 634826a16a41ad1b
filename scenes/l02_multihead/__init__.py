"""Lecture 2: Multi-Head Attention (topics L02.1–L02.7). The data layer lives in ``data``; scenes follow."""
