"""scripts/bench.py with bad arguments: the documented exit code and a message naming the argument (issue 20).

The codes are listed in docs/exit-codes.md; a test below checks the two agree.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from support import load_script, run_main
import torch

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "bench.py"


@pytest.fixture(scope="module")
def bench():
    return load_script(SCRIPT, "bench_script")



def test_cuda_without_a_gpu_is_one_line_and_exit_3(bench, capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, err = run_main(bench, capsys, "run", "--device", "cuda", "--out", str(tmp_path / "x.json"))
    assert code == 3
    assert err.strip().count("\n") == 0, "one line, no traceback"
    assert "--device cuda" in err and "no CUDA GPU" in err
    assert not (tmp_path / "x.json").exists()


def test_out_in_a_missing_folder_outside_the_project_is_refused_and_not_created(bench, capsys):
    missing = Path("/nonexistent-attn-ref-test/dir")
    code, err = run_main(bench, capsys, "run", "--device", "cpu", "--out", str(missing / "x.json"))
    assert code == 2
    assert "argument --out" in err and str(missing) in err
    assert not missing.parent.exists()


def test_merge_out_follows_the_same_rule(bench, capsys):
    code, err = run_main(bench, capsys, "merge", "a.json", "--out", "/nonexistent-attn-ref-test/dir/x.json")
    assert code == 2 and "argument --out" in err
    assert not Path("/nonexistent-attn-ref-test").exists()


def test_out_below_the_project_or_temp_may_create_folders(bench):
    from attn_ref._cli import output_folder_problem
    assert output_folder_problem(ROOT / "benchmarks" / "results" / "new" / "deeper") is None
    assert output_folder_problem(Path("/tmp/attn-ref-test-new/deeper")) is None
    assert "does not exist" in output_folder_problem(Path("/nonexistent-attn-ref-test/dir"))
    assert "is not a folder" in output_folder_problem(SCRIPT)


@pytest.mark.parametrize("threads", ["0", "-2", "two"])
def test_threads_must_be_a_positive_int(bench, capsys, threads):
    code, err = run_main(bench, capsys, "run", "--device", "cpu", "--threads", threads)
    assert code == 2 and "argument --threads" in err


@pytest.mark.parametrize("device", ["tpu", "gpu0", "meta"])
def test_unknown_devices_are_argument_errors(bench, capsys, device):
    code, err = run_main(bench, capsys, "run", "--device", device)
    assert code == 2 and "argument --device" in err and repr(device) in err


def test_merge_names_a_missing_or_corrupt_result_file(bench, capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    for part, words in ((tmp_path / "missing.json", "No such file"), (bad, "Expecting")):
        code, err = run_main(bench, capsys, "merge", str(part), "--out", str(tmp_path / "m.json"))
        assert code == 4 and str(part) in err and words in err
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"schema": "x"}))
    code, err = run_main(bench, capsys, "merge", str(wrong), "--out", str(tmp_path / "m.json"))
    assert code == 4 and str(wrong) in err
    assert not (tmp_path / "m.json").exists()


def test_report_refuses_a_missing_or_empty_results_folder(bench, capsys, tmp_path):
    code, err = run_main(bench, capsys, "report", "--results", str(tmp_path / "missing"))
    assert code == 2 and "argument --results" in err
    code, err = run_main(bench, capsys, "report", "--results", str(tmp_path))
    assert code == 4 and "no result files" in err
    assert not (tmp_path / "README.md").exists() and not (tmp_path.parent / "README.md").exists()


def test_the_real_process_exits_with_the_code(tmp_path):
    proc = subprocess.run([sys.executable, str(SCRIPT), "run", "--threads", "0"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 2 and "argument --threads" in proc.stderr and "Traceback" not in proc.stderr


def test_exit_codes_are_documented_as_implemented():
    """docs/exit-codes.md's bench.py table lists exactly the codes the script's docstring promises."""
    doc = (ROOT / "docs" / "exit-codes.md").read_text()
    section = doc.split("## scripts/bench.py", 1)[1].split("\n## ", 1)[0]
    documented = {int(c) for c in re.findall(r"^\| (\d+) \|", section, flags=re.M)}
    from attn_ref import _cli
    assert documented == {0, 1, _cli.EXIT_ARGS, _cli.EXIT_DEVICE, _cli.EXIT_READ, _cli.EXIT_WRITE}
    script_doc = SCRIPT.read_text().split('"""')[1]
    for code in documented:
        assert re.search(rf"\b{code} ", script_doc), f"bench.py's docstring omits exit code {code}"
