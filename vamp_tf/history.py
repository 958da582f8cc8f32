"""One epoch of a run's history: its history.json entry and its log line."""

from __future__ import annotations

from typing import Optional


def entry(epoch: int, beta: float, train_means: dict, validation: Optional[dict], seconds: float,
          commit: Optional[str], processor: Optional[str] = None) -> dict:
    """The history.json entry of an epoch.

    train_means: means over the epoch's training images of step.TRAIN_TERMS;
    validation: vamp_tf.evaluation.ElboTerms means (None on epochs not validated).
    Losses are stored as -ELBO and KL, reconstructions as log p(x|z). commit and processor (files.processor)
    say which code and which arithmetic trained the epoch.
    """
    out = {"epoch": epoch, "beta": beta, "seconds": seconds, "commit": commit, "processor": processor,
           "train_neg_elbo": -train_means["elbo"], "train_reconstruction": train_means["reconstruction"],
           "train_kl": train_means["kl"], "train_loss": train_means["loss"]}
    if validation is not None:
        out.update({"validation_neg_elbo": -validation["elbo"],
                    "validation_reconstruction": validation["reconstruction"],
                    "validation_kl": validation["kl"]})
        out.update({f"validation_{k}": v for k, v in validation.items() if k.startswith("kl_")})
    return out


def log_line(item: dict, epochs: int, best_validation: float, best_epoch: int, stopped_early: bool,
             final_beta: float = 1.0) -> str:
    """'epoch 3/2000 beta 0.03  train -ELBO ... valid -ELBO ... (best ... @ 3)  12.1s'; under a final beta
    other than 1 the best is of the validation D + beta R, and the line says so."""
    valid = ""
    if "validation_neg_elbo" in item:
        best = "best" if final_beta == 1.0 else f"best D + {final_beta:g} R"
        valid = f"  valid -ELBO {item['validation_neg_elbo']:.2f} ({best} {best_validation:.2f} @ {best_epoch})"
    return (f"epoch {item['epoch']}/{epochs} beta {item['beta']:.2f}  train -ELBO {item['train_neg_elbo']:.2f} "
            f"(RE {-item['train_reconstruction']:.2f}, KL {item['train_kl']:.2f}){valid}  {item['seconds']:.1f}s"
            + ("  early stop" if stopped_early else ""))
