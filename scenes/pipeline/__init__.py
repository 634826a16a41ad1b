"""Render → assemble pipeline for the lecture videos.

render.py    one manim process per scene, in parallel, skipping scenes whose inputs are unchanged
assemble.py  one mp4 per lecture (+ .srt, chapters, thumbnail, metadata.json), one continuous audio track
The other modules are the pieces both use; none of them imports manim at module level
(cards.py and probe.py run inside manim processes).
"""
