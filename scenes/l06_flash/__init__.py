"""Lecture 6: Flash Attention (topics L06.1–L06.6). The data layer lives in ``data``; scenes follow."""
