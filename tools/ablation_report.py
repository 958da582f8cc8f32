"""RESULTS.md's ablation tables beside the parity table: what the paper's code does differently, measured on
our runs one change at a time (Frey Faces, Caltech 101 Silhouettes), and why the paper's Caltech numbers are out
of reach. Split from tools/parity_report.py (the parity table itself)."""

from __future__ import annotations

import os

from tools import parity
from vamp_tf import files

RESCORED = os.path.join(parity.REPO, "experiments", "rescored")


def describe_rescore(record: dict) -> str:
    """What a tools.rescore record scored, in words: "its best-validation weights, scored with
    probabilities clamped to [1e-05, 1 - 1e-05]", "the weights of its last epoch (101) in place of
    its best-validation epoch's (74)", or both."""
    if record.get("checkpoint", "best") == "latest":
        words = (f"the weights of its last epoch ({record['checkpoint_epoch']}) in place of its best-validation "
                 f"epoch's ({record['best_epoch']})")
    else:
        words = "its best-validation weights"
    if record["probability_clamp"]:
        c = record["probability_clamp"]
        if record.get("likelihood", "bernoulli") == "discretized_logistic":
            words += f", each pixel scored as log(P(bin) + {c:g})"
        else:
            words += f", scored with probabilities clamped to [{c:g}, 1 - {c:g}]"
    return words

_SEED_NOISE = "`--seed=1`: our seed noise"

# (run, what differs from the run it is compared with, that run)
CALTECH_ABLATIONS = (
    ("caltech101_vamp_pseudo05", "pseudo-inputs from N(0.5, 0.02), the code's start for Caltech", "caltech101_vamp"),
    ("caltech101_vamp_normgrad", "N(0.5, 0.02) and AdamNormGrad: the code's settings", "caltech101_vamp"),
    ("caltech101_hvae_vamp_normgrad", "N(0.5, 0.02) and AdamNormGrad: the code's settings", "caltech101_hvae_vamp"),
    ("caltech101_standard_clamp", "Bernoulli probabilities clamped to [1e-5, 1 - 1e-5] in training and scoring, "
                                  "as the code does", "caltech101_standard"),
    ("caltech101_standard_seed1", _SEED_NOISE, "caltech101_standard"),
    ("caltech101_vamp_seed1", _SEED_NOISE, "caltech101_vamp"),
    ("caltech101_hvae_standard_seed1", _SEED_NOISE, "caltech101_hvae_standard"),
    ("caltech101_hvae_vamp_seed1", _SEED_NOISE, "caltech101_hvae_vamp"),
    ("caltech101_hvae_vamp_seed1_fullkl", "`--select_after_warmup`: the best of the full-KL epochs (>= 100) scored, "
     "not the best of any epoch", "caltech101_hvae_vamp_seed1"),
    ("caltech101_standard_split1", "`--split_seed=1`: another random split of the full file", "caltech101_standard"),
)



def _rescored(directory: str = RESCORED) -> list[dict]:
    if not os.path.isdir(directory):
        return []
    return [files.read_json(os.path.join(directory, n)) for n in sorted(os.listdir(directory)) if n.endswith(".json")]


_PIXEL_LAYOUT = "the code's layout of the PixelHVAE's q(z1 \\| x, z2) (`--architecture=pixelcnn_reference`)"
_CODE_INIT = "the code's initialisation (`--initialization=reference`)"
_CODE_OPTIMIZER = "the code's optimizer (`--optimizer=adam_normgrad`)"

# (run, what differs from the run it is compared with, that run), in bits/dim
FREY_ABLATIONS = (
    ("parity_frey_hvae_vamp_e200_refinit_s0", _CODE_INIT, "parity_frey_hvae_vamp_e200_s0"),
    ("parity_frey_hvae_vamp_e200_refinit_s1", _CODE_INIT, "parity_frey_hvae_vamp_e200_s1"),
    ("parity_frey_hvae_vamp_e200_normgrad_s0", _CODE_OPTIMIZER, "parity_frey_hvae_vamp_e200_s0"),
    ("parity_frey_hvae_vamp_e200_s1", _SEED_NOISE, "parity_frey_hvae_vamp_e200_s0"),
    ("parity_frey_convhvae_vamp_e100_refarch_s0", "the code's convHVAE layout (`--architecture=conv_reference`)",
     "parity_frey_convhvae_vamp_e100_s0"),
    ("parity_frey_convhvae_vamp_e100_refarch_s1", "the code's convHVAE layout (`--architecture=conv_reference`)",
     "parity_frey_convhvae_vamp_e100_s1"),
    ("parity_frey_convhvae_vamp_e100_refinit_s0", _CODE_INIT, "parity_frey_convhvae_vamp_e100_s0"),
    ("parity_frey_convhvae_vamp_e100_refall_s0", "the code's layout, initialisation and optimizer "
     "(`--architecture=conv_reference --initialization=reference --optimizer=adam_normgrad`)",
     "parity_frey_convhvae_vamp_e100_s0"),
    ("parity_frey_convhvae_vamp_e100_refall_floor_s0", "the code's score of a gray pixel, -log(P(bin) + 1e-7), in "
     "training and scoring (`--probability_clamp=1e-7`), on top of its layout, initialisation and optimizer",
     "parity_frey_convhvae_vamp_e100_refall_s0"),
    ("parity_frey_convhvae_vamp_e100_codeall_s0", "the code's padding and its per-tensor AdamNormGrad (`--architecture="
     "conv_reference_padded --optimizer=adam_normgrad_code`), on top of its layout, initialisation and 1e-7",
     "parity_frey_convhvae_vamp_e100_refall_floor_s0"),
    ("parity_frey_convhvae_vamp_e100_s1", _SEED_NOISE, "parity_frey_convhvae_vamp_e100_s0"),
    ("parity_frey_convhvae_vamp_e100_codeall_s1", _SEED_NOISE + " (the exact replica)",
     "parity_frey_convhvae_vamp_e100_codeall_s0"),
    ("parity_frey_convhvae_vamp_e100_codedata_s0", "the code's feeding of the data: each pixel at its bin's centre, "
     "(p + 0.5) / 256, and each epoch's last batch of 65 kept (`--gray_values=bin_centres --keep_last_batch`), on "
     "top of the exact replica", "parity_frey_convhvae_vamp_e100_codeall_s0"),
    ("parity_frey_pixelhvae_vamp_e100_refinit_s0", _CODE_INIT, "parity_frey_pixelhvae_vamp_e100_s0"),
    ("parity_frey_pixelhvae_vamp_e100_refinit_s1", _CODE_INIT, "parity_frey_pixelhvae_vamp_e100_s1"),
    ("parity_frey_pixelhvae_vamp_e100_normgrad_s0", _CODE_OPTIMIZER, "parity_frey_pixelhvae_vamp_e100_s0"),
    ("parity_frey_pixelhvae_vamp_e100_refarch_s0", _PIXEL_LAYOUT, "parity_frey_pixelhvae_vamp_e100_s0"),
    ("parity_frey_pixelhvae_vamp_e100_refnet_s0", "the code's whole network (`--architecture=pixelcnn_reference_full`: "
     "its layout of q(z1 \\| x, z2), the latent maps masked in its first layer, no output bias)",
     "parity_frey_pixelhvae_vamp_e100_s0"),
    ("parity_frey_pixelhvae_vamp_e100_refall_s0", "the code's network, initialisation and optimizer (`--architecture="
     "pixelcnn_reference_full --initialization=reference --optimizer=adam_normgrad`)",
     "parity_frey_pixelhvae_vamp_e100_s0"),
    ("parity_frey_pixelhvae_vamp_e100_s1", _SEED_NOISE, "parity_frey_pixelhvae_vamp_e100_s0"),
    ("frey_convhvae_standard_codelayout", "the code's convHVAE layout, by the protocol (490-epoch cap)",
     "frey_convhvae_standard"),
    ("frey_convhvae_vamp_codelayout", "the code's convHVAE layout, by the protocol (490-epoch cap)",
     "frey_convhvae_vamp"),
    ("frey_pixelhvae_standard_codeinit", _CODE_INIT + ", by the protocol (360-epoch cap), in float32",
     "frey_pixelhvae_standard"),
    ("frey_pixelhvae_vamp_codeinit", _CODE_INIT + ", by the protocol (360-epoch cap), in float32",
     "frey_pixelhvae_vamp"),
    ("frey_pixelhvae_standard_codelayout", _PIXEL_LAYOUT + ", by the protocol (360-epoch cap)",
     "frey_pixelhvae_standard"),
    ("frey_pixelhvae_vamp_codelayout", _PIXEL_LAYOUT + ", by the protocol (360-epoch cap)",
     "frey_pixelhvae_vamp"),
)


def _ablation_rows(runs: dict, rows, paired_difference, bits: bool) -> list[str]:
    """'| run | what differs | value | vs that run (paired s.e.) | epochs |' for each (run, what, base);
    a run on another split scores other test images and gets no paired difference."""
    lines = []
    for name, what, base in rows:
        run = runs.get(name)
        if run is None or not run.finished:
            lines.append(f"| {name} | {what} | — | — | {run.epochs() if run else 'not run'} |")
            continue
        same_split = run.results["config"]["train"]["split_seed"] == runs[base].results["config"]["train"]["split_seed"]
        paired = paired_difference(runs[base], run, bits) if same_split else "other test images"
        value = f"{run.metric('bits_per_dim'):.3f}" if bits else f"{run.nll():.2f}"
        lines.append(f"| {name} | {what} | {value} | {paired} vs {base} | {run.epochs()} |")
    return lines


def frey_ablations(runs: dict, paired_difference) -> list[str]:
    """What the paper's code does differently, measured on ours at the Frey Faces parity budget."""
    lines = ["### Parity (continued): Frey Faces, what the paper's code does differently (bits/dim, lower is "
             "better)", "",
             "Each run against the record it changes one thing of, on the same 200 test images.", "",
             "| run | what differs | bits/dim | vs that run (paired s.e.) | epochs |", "| --- | --- | --- | --- | --- |"]
    return lines + _ablation_rows(runs, FREY_ABLATIONS, paired_difference, True) + [""]


def caltech_ablations(runs: dict, paired_difference, rescored_dir: str = RESCORED) -> list[str]:
    """What the paper's code does differently, measured on ours, and the split's spread."""
    lines = ["### Table 8 (continued): Caltech 101 Silhouettes, what the paper's code does differently, and the "
             "split's spread (nats, -log p(x), lower is better)", "",
             "Each run against the record it changes one thing of (seed 0, split 0, Adam, exact Bernoulli, "
             "pseudo-inputs N(0.05, 0.01)). A different split scores other test images, so its row has no paired "
             "difference: the spread of the splits' means is the data's own noise.", "",
             "| run | what differs | -log p(x) | vs that run (paired s.e.) | epochs |", "| --- | --- | --- | --- | --- |"]
    lines += _ablation_rows(runs, CALTECH_ABLATIONS, paired_difference, False)
    for r in _rescored(rescored_dir):
        lines.append(f"| {r['run']}, rescored | {r['run']}: {describe_rescore(r)} "
                     f"(`python -m tools.rescore`, same importance samples) | {-r['test_log_likelihood']:.2f} | "
                     f"{r['nll_change']:+.3f} ± {r['nll_change_standard_error']:.3f} vs {r['run']} | — |")
    return lines + [""]


def caltech_summary(runs: dict, paper: dict, directory: str = parity.PARITY) -> list[str]:
    """One sentence under Table 8: why the paper's Caltech numbers are out of reach here (from the records)."""
    std_ref, _ = parity.load("ref_caltech101_standard_s0", directory)
    vamp_ref, _ = parity.load("ref_caltech101_vamp_s0", directory)
    split0, split1 = runs.get("caltech101_standard"), runs.get("caltech101_standard_split1")
    if not (std_ref and vamp_ref and split0 and split1 and split0.finished and split1.finished):
        return []
    code_std, code_vamp = std_ref["metrics"]["test_nll"], vamp_ref["metrics"]["test_nll"]
    return [f"Why the paper's Caltech numbers are out of reach here: the paper's own code, run on this split, gives "
            f"{code_std:.2f} / {code_vamp:.2f} nats for the VAE (parity table), within noise of ours and "
            f"{code_std - paper['caltech101_standard']:.2f} / {code_vamp - paper['caltech101_vamp']:.2f} nats above "
            f"the paper's table, while two random splits of ours differ by {abs(split1.nll() - split0.nll()):.2f}: "
            "the table needs its split1 file (or runs unlike the published code), not a better implementation.", ""]
