"""Deterministic CPU trainer with checkpoints that resume bit-for-bit.

Determinism rules (what makes two runs, in one process or in two, give identical numbers):

* weights: ``torch.manual_seed(seed)`` right before the model is built (inside ``fork_rng``, so the
  caller's global RNG is untouched);
* data: the batch of step s comes from its own ``torch.Generator`` seeded with :func:`step_seed`
  (seed, s), so a resumed run draws exactly the batches the uninterrupted run would have drawn;
* a fixed intra-op thread count, ``torch.set_num_threads(threads)`` (2 by default; float sums are
  reduced in a thread-count-dependent order), restored when training returns; float32 everywhere;
* the optimiser (AdamW, Loshchilov & Hutter, arXiv:1711.05101) state, the step, the logged history and
  the running log-window sums are all in the checkpoint; the learning rate is a pure function of the
  step (linear warm-up, then cosine decay to ``min_lr_ratio``·lr).

A checkpoint is written every ``checkpoint_every`` steps (atomically: temp file, then rename). Calling
:func:`train` again with the same configuration and path resumes from it; the final weights and
history equal those of an uninterrupted run (tests/lab check this, also across a killed process).
Bitwise equality holds on one machine type and torch build; another CPU (different SIMD kernels)
may round differently.
"""
from __future__ import annotations

import hashlib
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from collections.abc import Callable

import torch
import torch.nn.functional as F

from .._checks import check_positive_int
from .model import ModelConfig, TinyTransformer
from .tasks import IGNORE

__all__ = ["Progress", "TrainConfig", "TrainResult", "learning_rate", "step_seed", "train"]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings. ``aux_loss_coef`` = α of the Switch load-balancing loss (arXiv:2101.03961),
    added as α·mean over layers of N·Σ f_i P_i when the attention reports it (MoA); 0 turns it off."""

    steps: int
    batch_size: int = 32
    lr: float = 3e-3
    min_lr_ratio: float = 0.1
    warmup: int = 50
    weight_decay: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.98
    grad_clip: float = 1.0
    seed: int = 0
    aux_loss_coef: float = 0.0
    log_every: int = 100
    checkpoint_every: int = 0
    threads: int = 2

    def __post_init__(self):
        for name in ("steps", "batch_size", "log_every", "threads"):
            check_positive_int(name, getattr(self, name))
        if self.checkpoint_every < 0 or self.warmup < 0:
            raise ValueError("checkpoint_every and warmup must be >= 0")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainResult:
    model: TinyTransformer
    history: list
    steps: int
    wall_time_s: float
    resumed_from: int | None


def step_seed(seed: int, step: int) -> int:
    """Seed of the data generator of ``step``: a 63-bit mix of (seed, step) (splitmix64 finaliser)."""
    z = (seed * 0x9E3779B97F4A7C15 + step + 1) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return (z ^ (z >> 31)) & 0x7FFFFFFFFFFFFFFF


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """lr(s) = lr·(s+1)/warmup during warm-up, then lr·(r + (1 − r)·½(1 + cos(π·t))), t = progress ∈ [0, 1]."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    r = cfg.min_lr_ratio
    return cfg.lr * (r + (1 - r) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0))))


class Progress:
    """A one-line progress display on stderr (carriage return), redrawn at most every ``interval`` s."""

    def __init__(self, total: int, label: str = "", enabled: bool = True, stream=None, interval: float = 0.5):
        self.total, self.label, self.enabled = total, label, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.interval, self._last, self._t0 = interval, 0.0, time.perf_counter()

    def update(self, step: int, text: str = "", force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        rate = step / max(now - self._t0, 1e-9)
        width = 24
        filled = int(width * step / max(self.total, 1))
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {step}/{self.total} {rate:6.1f} it/s {text}  ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _loss(logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Σ w·NLL / Σ w over scored positions (targets != IGNORE)."""
    nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE,
                          reduction="none")
    w = weights.reshape(-1)
    return (nll * w).sum() / w.sum()


def _signature(model_config: ModelConfig, task, cfg: TrainConfig, init_state: dict | None = None) -> dict:
    t = cfg.to_dict()
    for k in ("checkpoint_every", "threads"):       # neither changes the numbers
        t.pop(k)
    sig = {"model": model_config.to_dict(), "task": task.to_dict(), "train": t}
    if init_state is not None:                      # training continued from given weights
        sig["init_state"] = _state_digest(init_state)
    return sig


def _state_digest(state: dict) -> str:
    """SHA-256 over a state dict's names, shapes, dtypes and bytes (in key order): identifies given weights."""
    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        h.update(f"{name}|{tuple(t.shape)}|{t.dtype}|".encode())
        h.update(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


class CheckpointError(ValueError):
    """A training checkpoint cannot be used (unreadable, damaged, or another configuration's); names the file."""


def _load_checkpoint(path: str) -> dict:
    """``torch.load`` a checkpoint; any failure becomes a :class:`CheckpointError` naming ``path``."""
    try:
        ck = torch.load(path, weights_only=False)
    except Exception as e:  # truncated or foreign bytes: pickle, zip and EOF errors alike
        raise CheckpointError(f"checkpoint {path} cannot be read ({type(e).__name__}: {e}); "
                              f"delete it to start over") from e
    if not isinstance(ck, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(ck).__name__}, not a checkpoint dict; "
                              f"delete it to start over")
    return ck


def _save(path: str, payload: dict) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    torch.save(payload, tmp)
    os.replace(tmp, path)


def train(model_config: ModelConfig, task, config: TrainConfig, *, checkpoint_path: str | None = None,
          probe: Callable[[TinyTransformer, int], dict] | None = None, progress: bool = True,
          label: str = "train", stop_at: int | None = None,
          on_log: Callable[[dict], None] | None = None, threads: int | None = None,
          init_state: dict | None = None) -> TrainResult:
    """Train a :class:`TinyTransformer` on ``task`` with AdamW; return the model and its history.

    Loss: the task's weighted cross-entropy Σ w·NLL / Σ w, plus ``aux_loss_coef``·(mean over layers of the
    layer's ``load_balancing_loss``) when the attention reports one.
    Every ``log_every`` steps (and at step 0 and the last step) a history record is appended:
    ``step``, ``lr``, ``loss`` (mean training loss since the last record), ``aux_loss``, ``expert_load``
    (per layer, fraction of top-k assignments per expert since the last record; MoA only) and whatever
    ``probe(model, step)`` returns (called under ``torch.no_grad`` in eval mode; it must be
    deterministic). ``checkpoint_path``: resume from it if present, write it every
    ``checkpoint_every`` steps. ``stop_at``: stop after that many steps (simulates an interruption).
    ``threads`` overrides ``config.threads`` for this call (the thread count is not part of the
    checkpoint signature: at these sizes 1 and 2 threads give bitwise-identical results, a test checks it).
    ``init_state``: a state dict to start from instead of the seeded initialisation (e.g. a converted
    checkpoint to uptrain, arXiv:2305.13245); the optimiser starts fresh, the data still follow
    ``config.seed``, and a digest of the weights is part of the checkpoint signature.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    prev_threads = torch.get_num_threads()
    torch.set_num_threads(threads if threads is not None else config.threads)
    try:
        return _train(model_config, task, config, checkpoint_path, probe, progress, label, stop_at, on_log,
                      init_state)
    finally:
        torch.set_num_threads(prev_threads)


def _train(model_config, task, cfg, checkpoint_path, probe, progress, label, stop_at, on_log, init_state=None):
    t0 = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = TinyTransformer(model_config)
    if init_state is not None:
        model.load_state_dict(init_state)
    model.float()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2),
                            weight_decay=cfg.weight_decay)
    signature = _signature(model_config, task, cfg, init_state)
    step, history, resumed_from = 0, [], None
    acc = {"loss": 0.0, "aux": 0.0, "n": 0, "load": None}
    if checkpoint_path and os.path.exists(checkpoint_path):
        ck = _load_checkpoint(checkpoint_path)
        if ck.get("signature") != signature:
            raise CheckpointError(f"checkpoint {checkpoint_path} was written for a different configuration; "
                                  f"delete it or use another path")
        try:
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["optimizer"])
            step, history, acc = ck["step"], ck["history"], ck["acc"]
        except (KeyError, RuntimeError, ValueError, TypeError) as e:
            raise CheckpointError(f"checkpoint {checkpoint_path} is damaged ({type(e).__name__}: {e}); "
                                  f"delete it to start over") from e
        resumed_from = step

    def record(s: int) -> None:
        rec = {"step": s, "lr": learning_rate(cfg, max(s - 1, 0)),
               "loss": acc["loss"] / acc["n"] if acc["n"] else None,
               "aux_loss": acc["aux"] / acc["n"] if acc["n"] else None}
        if acc["load"] is not None:
            rec["expert_load"] = [(row / row.sum()).tolist() if row.sum() > 0 else row.tolist()
                                  for row in acc["load"]]
        if probe is not None:
            model.eval()
            with torch.no_grad():
                rec.update(probe(model, s))
            model.train()
        history.append(rec)
        acc.update(loss=0.0, aux=0.0, n=0, load=None)
        if on_log is not None:
            on_log(rec)

    if step == 0 and not history:
        record(0)
    bar = Progress(cfg.steps, label, enabled=progress)
    model.train()
    last = history[-1]["loss"] if history else None
    while step < cfg.steps:
        if stop_at is not None and step >= stop_at:
            break
        g = torch.Generator().manual_seed(step_seed(cfg.seed, step))
        batch = task.sample(cfg.batch_size, g)
        for group in opt.param_groups:
            group["lr"] = learning_rate(cfg, step)
        out = model(batch.tokens)
        loss = _loss(out.logits, batch.targets, batch.weights)
        lb = [a["load_balancing_loss"] for a in out.aux if "load_balancing_loss" in a]
        aux = torch.stack(lb).mean() if lb else None
        total = loss + cfg.aux_loss_coef * aux if (aux is not None and cfg.aux_loss_coef) else loss
        opt.zero_grad(set_to_none=True)
        total.backward()
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        step += 1
        acc["loss"] += float(loss.detach())
        acc["aux"] += float(aux.detach()) if aux is not None else 0.0
        acc["n"] += 1
        counts = [torch.bincount(a["expert_index"].reshape(-1), minlength=model_config.n_experts).double()
                  for a in out.aux if "expert_index" in a and "router_probs" in a]
        if counts:
            c = torch.stack(counts)
            acc["load"] = c if acc["load"] is None else acc["load"] + c
        if step % cfg.log_every == 0 or step == cfg.steps:
            record(step)
            last = history[-1]["loss"]
        if checkpoint_path and cfg.checkpoint_every and (step % cfg.checkpoint_every == 0 or step == cfg.steps):
            _save(checkpoint_path, {"signature": signature, "model": model.state_dict(),
                                    "optimizer": opt.state_dict(), "step": step, "history": history,
                                    "acc": acc})
        bar.update(step, f"loss {last:.4f}" if last is not None else "")
    bar.update(step, f"loss {last:.4f}" if last is not None else "", force=True)
    bar.close()
    model.eval()
    return TrainResult(model, history, step, time.perf_counter() - t0, resumed_from)
