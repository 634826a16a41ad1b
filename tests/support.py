"""Helpers the test folders share (import with ``from support import ...``: tests/ is on sys.path)."""
from __future__ import annotations


def load_script(path, name: str):
    """A script under scripts/ imported as module ``name`` (its ``main(argv)`` callable in-process)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, path)
    mod = sys.modules[name] = importlib.util.module_from_spec(spec)  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def run_main(mod, capsys, *argv):
    """(exit code, stderr) of ``mod.main(argv)``; argparse errors exit through SystemExit."""
    try:
        code = mod.main(list(argv))
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr().err


def write_tiny_mp4(path, frames: int, fps: int, grey_step: int):
    """A real, decodable h264 video of 64x36 frames, frame i a flat grey of level i * grey_step."""
    import av
    import numpy as np

    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = 64, 36, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((36, 64, 3), i * grey_step, np.uint8), format="rgb24")
            for pkt in s.encode(frame):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path
