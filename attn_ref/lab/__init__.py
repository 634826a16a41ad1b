"""attn_ref.lab: tiny models trained on synthetic tasks on the CPU, with results the lectures draw.

Imports only torch, numpy and the standard library (like the rest of ``attn_ref``).

* :class:`TinyTransformer` / :class:`ModelConfig` — a decoder with switchable attention
  (mha, gqa, diff, moa, switchhead, linear; or the SSM mixers s4d and mamba), positions (rope, nope,
  alibi, sinusoidal, learned) and an optional sliding window.
* tasks — :class:`RepeatedSequences`, :class:`PreviousTokenCopy`, :class:`AssociativeRecall`,
  :class:`NeedleHaystack`, :class:`PairRecall`, :class:`SelectiveCopying`, each with a seeded
  ``sample(batch_size, generator)``.
* scorers — :func:`previous_token_score`, :func:`induction_score`, :func:`span_mass`,
  :func:`retrieval_accuracy`, :func:`coefficient_of_variation`.
* :func:`train` / :class:`TrainConfig` — deterministic CPU training with resumable checkpoints.
* experiments — :data:`EXPERIMENTS`, :func:`run_experiment` (``scripts/experiments.py``).
* results — :func:`load_result` (validated dict), :func:`result_path`.
"""
from .model import ATTENTION_KINDS, POSITION_KINDS, LinearAttentionLayer, ModelConfig, ModelOutput, TinyTransformer
from .tasks import (IGNORE, AssociativeRecall, Batch, NeedleHaystack, PairRecall, PreviousTokenCopy,
                    RepeatedSequences, SelectiveCopying, make_task)
from .scores import (coefficient_of_variation, induction_score, previous_token_score, retrieval_accuracy,
                     span_mass)
from .trainer import CheckpointError, Progress, TrainConfig, TrainResult, learning_rate, step_seed, train
from .results import (MAX_MAP_SIDE, METADATA_FIELDS, SCHEMA, ResultError, load_result, result_path, results_dir,
                      validate_result, write_result)
from .experiments import EXPERIMENTS, Experiment, experiment_config, list_experiments, run_experiment

__all__ = [
                    "ATTENTION_KINDS",
                    "EXPERIMENTS",
                    "IGNORE",
                    "MAX_MAP_SIDE",
                    "METADATA_FIELDS",
                    "POSITION_KINDS",
                    "SCHEMA",
                    "AssociativeRecall",
                    "Batch",
                    "CheckpointError",
                    "Experiment",
                    "LinearAttentionLayer",
                    "ModelConfig",
                    "ModelOutput",
                    "NeedleHaystack",
                    "PairRecall",
                    "PreviousTokenCopy",
                    "Progress",
                    "RepeatedSequences",
                    "ResultError",
                    "SelectiveCopying",
                    "TinyTransformer",
                    "TrainConfig",
                    "TrainResult",
                    "coefficient_of_variation",
                    "experiment_config",
                    "induction_score",
                    "learning_rate",
                    "list_experiments",
                    "load_result",
                    "make_task",
                    "previous_token_score",
                    "result_path",
                    "results_dir",
                    "retrieval_accuracy",
                    "run_experiment",
                    "span_mass",
                    "step_seed",
                    "train",
                    "validate_result",
                    "write_result",
]
