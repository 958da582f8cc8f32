"""Output: the run's folder and its figures."""

from absl import flags

from trainers.flags._defaults import TRAIN

WORKDIR = flags.DEFINE_string("workdir", None, "Where checkpoints, results.json, figures and TensorBoard logs go; "
                              "rerunning the command resumes the run there.")
OVERWRITE = flags.DEFINE_bool("overwrite", False, "Delete the run in --workdir and start over.")
FIGURES = flags.DEFINE_bool("figures", TRAIN.figures, "Draw the figures at the end (--nofigures: every number and "
                            "file but the figures).")
FIGURE_SAMPLES = flags.DEFINE_integer("figure_samples", TRAIN.figure_samples, "Images in the final samples figure.")
