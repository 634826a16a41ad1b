"""Fixtures of the pipeline tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_mp4(tmp_path_factory) -> Path:
    """5 frames of 64x36 h264 at 15 fps."""
    import av
    import numpy as np

    path = tmp_path_factory.mktemp("tiny") / "tiny.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=15)
        s.width, s.height, s.pix_fmt = 64, 36, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((36, 64, 3), i * 40, np.uint8), format="rgb24")
            for pkt in s.encode(frame):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path
