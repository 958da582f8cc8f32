"""The flag every benchmark script shares, defined once so that the scripts can be imported together."""

from absl import flags

WRITE_README = flags.DEFINE_bool("write_readme", False,
                                 "Write this script's section of bench/README.md (a rerun replaces it).")
