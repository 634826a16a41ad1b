"""The lab with bad input (issue 20): a corrupt checkpoint names its path; scripts/experiments.py refuses bad
arguments with the documented exit code and the argument named (docs/exit-codes.md)."""
import re
from pathlib import Path

import pytest

from support import load_script, run_main
import torch

from attn_ref.lab import CheckpointError, ModelConfig, PreviousTokenCopy, TrainConfig, train

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "experiments.py"
MODEL = ModelConfig(vocab_size=16, d_model=16, n_layers=1, n_heads=2, d_ff=16)
TASK = PreviousTokenCopy(vocab_size=16, length=12)
CFG = TrainConfig(steps=4, batch_size=4, checkpoint_every=2, threads=1)


def _good_checkpoint(tmp_path) -> Path:
    ck = tmp_path / "good.pt"
    train(MODEL, TASK, CFG, checkpoint_path=str(ck), progress=False, stop_at=2)
    return ck


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "not a dict", "missing keys"])
def test_a_damaged_checkpoint_is_refused_with_its_path(tmp_path, damage):
    good = _good_checkpoint(tmp_path)
    ck = tmp_path / "ck.pt"
    if damage == "garbage":
        ck.write_bytes(b"not a checkpoint\n")
    elif damage == "truncated":
        ck.write_bytes(good.read_bytes()[:200])
    elif damage == "empty":
        ck.write_bytes(b"")
    elif damage == "not a dict":
        torch.save([1, 2, 3], ck)
    else:
        payload = torch.load(good, weights_only=False)
        del payload["optimizer"]
        torch.save(payload, ck)
    with pytest.raises(CheckpointError, match=re.escape(str(ck))) as info:
        train(MODEL, TASK, CFG, checkpoint_path=str(ck), progress=False)
    assert isinstance(info.value, ValueError)  # callers catching ValueError keep working
    assert "delete it" in str(info.value)


def test_a_good_checkpoint_still_resumes(tmp_path):
    ck = _good_checkpoint(tmp_path)
    assert train(MODEL, TASK, CFG, checkpoint_path=str(ck), progress=False).resumed_from == 2


@pytest.fixture(scope="module")
def experiments():
    return load_script(SCRIPT, "experiments_script")



@pytest.mark.parametrize("threads", ["0", "-1", "two"])
def test_threads_must_be_a_positive_int(experiments, capsys, threads):
    code, err = run_main(experiments, capsys, "run", "routing_balance", "--quick", "--threads", threads)
    assert code == 2 and "argument --threads" in err


def test_unknown_experiment_is_named(experiments, capsys):
    code, err = run_main(experiments, capsys, "run", "routing_balanse")
    assert code == 2 and "routing_balanse" in err and "routing_balance" in err


def test_output_folders_are_checked_before_any_training(experiments, capsys, tmp_path):
    code, err = run_main(experiments, capsys, "run", "routing_balance", "--quick",
                    "--out-dir", "/nonexistent-attn-ref-test/out")
    assert code == 2 and "argument --out-dir" in err
    assert not Path("/nonexistent-attn-ref-test").exists()
    a_file = tmp_path / "file"
    a_file.write_text("")
    code, err = run_main(experiments, capsys, "run", "routing_balance", "--quick", "--checkpoint-dir", str(a_file))
    assert code == 2 and "argument --checkpoint-dir" in err and "is not a folder" in err


def test_a_corrupt_checkpoint_exits_4_naming_the_path(experiments, capsys, tmp_path):
    folder = tmp_path / "ck" / "routing_balance"
    folder.mkdir(parents=True)
    for alpha in ("0", "0.01", "0.1"):  # whichever model trains first finds garbage
        (folder / f"routing_alpha_{alpha}_.pt").write_bytes(b"garbage")
    code, err = run_main(experiments, capsys, "run", "routing_balance", "--quick", "--no-progress", "--threads", "1",
                    "--checkpoint-dir", str(tmp_path / "ck"), "--out-dir", str(tmp_path / "out"))
    assert code == 4
    assert err.startswith("experiments.py: error: checkpoint ") and str(folder) in err
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_exit_codes_are_documented_as_implemented():
    doc = (ROOT / "docs" / "exit-codes.md").read_text()
    section = doc.split("## scripts/experiments.py", 1)[1].split("\n## ", 1)[0]
    documented = {int(c) for c in re.findall(r"^\| (\d+) \|", section, flags=re.M)}
    from attn_ref import _cli
    assert documented == {0, 1, _cli.EXIT_ARGS, _cli.EXIT_READ, _cli.EXIT_WRITE}
    script = SCRIPT.read_text()
    script_doc = script.split('"""')[1]
    for code in documented:
        assert re.search(rf"\b{code} ", script_doc), f"experiments.py's docstring omits exit code {code}"
    assert "EXIT_DEVICE" not in script  # no device code here: it must not appear undocumented
