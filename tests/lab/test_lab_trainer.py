"""Trainer: same seed -> same numbers; an interrupted run resumes to the uninterrupted result."""
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from attn_ref.lab import (ModelConfig, PreviousTokenCopy, Progress, RepeatedSequences, TrainConfig, learning_rate,
                          step_seed, train)

REPO = Path(__file__).resolve().parents[2]
MODEL = ModelConfig(vocab_size=16, d_model=16, n_layers=1, n_heads=2, d_ff=16)
TASK = PreviousTokenCopy(vocab_size=16, length=12)


def _same(a, b):
    sa, sb = a.model.state_dict(), b.model.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa) and a.history == b.history


def test_same_seed_same_result_other_seed_differs():
    cfg = TrainConfig(steps=12, batch_size=8, log_every=4, threads=1)
    a = train(MODEL, TASK, cfg, progress=False)
    b = train(MODEL, TASK, cfg, progress=False)
    c = train(MODEL, TASK, TrainConfig(steps=12, batch_size=8, log_every=4, seed=1, threads=1), progress=False)
    assert _same(a, b) and not _same(a, c)
    assert [h["step"] for h in a.history] == [0, 4, 8, 12]
    assert a.history[0]["loss"] is None and a.history[-1]["loss"] > 0


def test_thread_count_does_not_change_results():
    cfg = TrainConfig(steps=6, batch_size=8, log_every=3)
    assert _same(train(MODEL, TASK, cfg, progress=False, threads=1),
                 train(MODEL, TASK, cfg, progress=False, threads=2))


def test_training_learns_previous_token_copy():
    r = train(ModelConfig(vocab_size=8, d_model=32, n_layers=1, n_heads=2, d_ff=0),
              PreviousTokenCopy(vocab_size=8, length=8),
              TrainConfig(steps=60, batch_size=16, lr=1e-2, log_every=20, threads=1),
              progress=False)
    assert r.history[-1]["loss"] < 0.5 * r.history[1]["loss"]


def test_resume_in_process_equals_uninterrupted(tmp_path):
    cfg = TrainConfig(steps=12, batch_size=8, log_every=3, checkpoint_every=5, threads=1)
    full = train(MODEL, TASK, cfg, progress=False)
    ck = str(tmp_path / "ck.pt")
    part = train(MODEL, TASK, cfg, checkpoint_path=ck, progress=False, stop_at=7)   # saved at 5, stopped at 7
    assert part.steps == 7
    resumed = train(MODEL, TASK, cfg, checkpoint_path=ck, progress=False)
    assert resumed.resumed_from == 5 and resumed.steps == 12
    assert _same(full, resumed)
    again = train(MODEL, TASK, cfg, checkpoint_path=ck, progress=False)               # finished: nothing to do
    assert again.resumed_from == 12 and _same(full, again)


def test_checkpoint_of_another_configuration_is_refused(tmp_path):
    ck = str(tmp_path / "ck.pt")
    train(MODEL, TASK, TrainConfig(steps=4, batch_size=4, checkpoint_every=2), checkpoint_path=ck, progress=False)
    with pytest.raises(ValueError, match="different configuration"):
        train(MODEL, TASK, TrainConfig(steps=4, batch_size=4, checkpoint_every=2, lr=1e-2), checkpoint_path=ck,
              progress=False)


_SCRIPT = """
import sys, time
sys.path.insert(0, {repo!r})
from attn_ref.lab import ModelConfig, RepeatedSequences, TrainConfig, train
train(ModelConfig(vocab_size=32, d_model=16, n_layers=2, n_heads=2, d_ff=0),
      RepeatedSequences(vocab_size=32, length=16, min_period=3, max_period=6, max_prefix=4),
      TrainConfig(steps=40, batch_size=8, log_every=2, checkpoint_every=4, threads=1),
      checkpoint_path={ck!r}, progress=False, on_log=lambda rec: time.sleep(0.3))
"""


def test_killed_process_resumes_to_the_same_result(tmp_path):
    """A separate process is SIGKILLed after its first checkpoints; resuming here gives the same numbers as an
    uninterrupted run (also checks determinism across processes)."""
    ck = str(tmp_path / "ck.pt")
    script = tmp_path / "run.py"
    script.write_text(_SCRIPT.format(repo=str(REPO), ck=ck))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if os.path.exists(ck) and torch.load(ck, weights_only=False)["step"] >= 8:
                break
            time.sleep(0.1)
        assert proc.poll() is None, f"the run ended before it could be interrupted: {proc.stderr.read()!r}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    model = ModelConfig(vocab_size=32, d_model=16, n_layers=2, n_heads=2, d_ff=0)
    task = RepeatedSequences(vocab_size=32, length=16, min_period=3, max_period=6, max_prefix=4)
    cfg = TrainConfig(steps=40, batch_size=8, log_every=2, checkpoint_every=4, threads=1)
    resumed = train(model, task, cfg, checkpoint_path=ck, progress=False)
    assert resumed.resumed_from is not None and 8 <= resumed.resumed_from < 40
    assert _same(resumed, train(model, task, cfg, progress=False))


def test_schedule_seeds_and_progress():
    cfg = TrainConfig(steps=100, lr=1.0, warmup=10, min_lr_ratio=0.1)
    assert learning_rate(cfg, 0) == pytest.approx(0.1) and learning_rate(cfg, 9) == pytest.approx(1.0)
    assert learning_rate(cfg, 100) == pytest.approx(0.1)
    assert len({step_seed(0, s) for s in range(1000)} | {step_seed(1, s) for s in range(1000)}) == 2000
    buf = io.StringIO()
    p = Progress(10, "demo", stream=buf, interval=0.0)
    p.update(5, "loss 1.0")
    p.close()
    assert buf.getvalue().startswith("\rdemo [") and "5/10" in buf.getvalue() and buf.getvalue().endswith("\n")
    with pytest.raises(TypeError, match="TrainConfig"):
        train(MODEL, TASK, {"steps": 3})
