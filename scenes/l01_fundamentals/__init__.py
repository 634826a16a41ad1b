"""Lecture 1, Attention Fundamentals (L01.1–L01.9).

``data`` holds every number the scenes draw (pure, seeded, computed with ``attn_ref``); the scene
modules hold layout only.
"""
