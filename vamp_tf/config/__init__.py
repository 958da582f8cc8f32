"""Frozen, validated configuration for models and training runs.

Every value a run depends on lives here; binaries build these objects from flags and
library code receives them as plain arguments. Validation happens once, in
`__post_init__`, and raises `ValueError` naming the argument and what is allowed.

One module a job: choices.py (the allowed names, what an architecture name means), model.py
(ModelConfig), train.py (TrainConfig, RESUMABLE_FIELDS); this module holds Config, the two together,
and re-exports every name, so `from vamp_tf.config import ModelConfig` and `config.PRIORS` work.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from vamp_tf.config.choices import (ARCHITECTURES, COMPONENT_WEIGHTS, GRAY_VALUES, INITIALIZATIONS, LIKELIHOODS, MODELS,
                                    OPTIMIZERS, POSTERIORS, PRECISIONS, PRIORS, PSEUDO_INIT_DEFAULTS, PSEUDO_INITS,
                                    STRATEGIES, Architecture)
from vamp_tf.config.model import LEGACY_MODEL_DEFAULTS, ModelConfig
from vamp_tf.config.train import RESUMABLE_FIELDS, SCORE_NEUTRAL_FIELDS, TrainConfig


@dataclasses.dataclass(frozen=True)
class Config:
    model: ModelConfig
    train: TrainConfig

    def __post_init__(self):
        if self.train.gray_values != "grid" and self.model.likelihood != "discretized_logistic":
            raise ValueError(f"gray_values={self.train.gray_values!r} places the pixels of 256-level gray images "
                             f"(the discretized logistic's bins); likelihood={self.model.likelihood!r} models "
                             "binary images: drop --gray_values (or pass grid).")

    def to_dict(self) -> dict[str, Any]:
        return {"model": dataclasses.asdict(self.model), "train": dataclasses.asdict(self.train)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Config":
        return cls(model=ModelConfig.from_dict(d["model"]), train=TrainConfig(**d["train"]))

    def differences(self, other: "Config", ignore=RESUMABLE_FIELDS) -> list[str]:
        """Names ('train.seed', ...) of the fields that differ, except those in `ignore`."""
        out = []
        for section in ("model", "train"):
            a, b = self.to_dict()[section], other.to_dict()[section]
            for key in sorted(set(a) | set(b)):
                if key not in ignore and a.get(key) != b.get(key):
                    out.append(f"{section}.{key}: {b.get(key)!r} -> {a.get(key)!r}")
        return out



__all__ = ["ARCHITECTURES", "COMPONENT_WEIGHTS", "GRAY_VALUES", "INITIALIZATIONS", "LIKELIHOODS", "MODELS", "OPTIMIZERS",
           "POSTERIORS", "PRECISIONS", "PRIORS", "PSEUDO_INIT_DEFAULTS", "PSEUDO_INITS", "STRATEGIES", "Architecture",
           "ModelConfig", "TrainConfig", "RESUMABLE_FIELDS", "LEGACY_MODEL_DEFAULTS", "Config"]
