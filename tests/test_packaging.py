"""A plain `pip install .` in a clean virtual environment gives an attn_ref that imports and runs
with nothing but torch and numpy: manim and moviepy are not installed, and importing attn_ref loads
no sympy (torch itself depends on sympy, so it is installed, but attn_ref never imports it)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import importlib.util, sys, torch
before = set(sys.modules)
import attn_ref as ar
import attn_ref.bench, attn_ref.kernels  # optional parts import without their extras
loaded = {m.split(".")[0] for m in set(sys.modules) - before}
assert not loaded & {"manim", "sympy", "moviepy", "manim_voiceover", "matplotlib"}, loaded
q = torch.randn(1, 2, 4, 8, dtype=torch.float64)
out = ar.sdpa(q, q, q, is_causal=True)
ref = torch.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
assert torch.allclose(out, ref, atol=1e-12)
present = [m for m in ("manim", "moviepy", "manim_voiceover") if importlib.util.find_spec(m)]
assert not present, present
print("attn_ref", ar.__version__, "ok")
"""


@pytest.mark.slow
def test_plain_pip_install_gives_a_working_attn_ref_without_lecture_tools(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "media", "*.egg-info", "build",
                                                              "__pycache__", ".gpu", "tests", "scenes"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    pip = [py, "-m", "pip", "install", "-q"]
    # the CPU build of torch first (a bare range would pull a multi-GB CUDA build), then the project
    subprocess.run([*pip, "-r", str(ROOT / "requirements" / "torch.txt")], check=True, env=env, timeout=900)
    subprocess.run([*pip, str(src)], check=True, env=env, timeout=900)
    proc = subprocess.run([py, "-c", PROBE], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ok" in proc.stdout
