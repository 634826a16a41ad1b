"""The README's library example runs as written (docs that match the code)."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_python_example_runs():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "the README has a python example"
    proc = subprocess.run([sys.executable, "-c", "\n".join(blocks)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "flash.final True" in proc.stdout and "512 KiB per token" in proc.stdout


def test_readme_names_the_two_commands_and_ci_calls_the_test_one():
    text = (ROOT / "README.md").read_text()
    assert "make video" in text and "make test" in text
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
