"""Start-up of vamp_tf's binaries and tools: TensorFlow without its C++ start-up noise.

TensorFlow's C++ runtime prints 5-7 lines when it loads and probes for CUDA (oneDNN notes,
"Could not find cuda drivers", "failed call to cuInit"), before TF_CPP_MIN_LOG_LEVEL
applies. The binaries and tools hide them (call it before anything imports TensorFlow), and so does
the library when its first submodule is used (`import vamp_tf` alone imports nothing): stderr (file descriptor 2) goes to a scratch
file while TensorFlow loads and lists its devices, and that output is printed after all if
loading fails. VAMP_TF_VERBOSE=1 shows everything.
"""

import logging
import os
import sys
import tempfile


def import_tensorflow_quietly(quiet_later_lines: bool = True) -> None:
    """Imports TensorFlow (and lists its devices) with the C++ start-up lines hidden.

    quiet_later_lines: also set TF_CPP_MIN_LOG_LEVEL=2 (unless set), which hides TensorFlow's
    later C++ INFO and WARNING lines; binaries do, the library (first use of a vamp_tf
    submodule) does not, so a user's own TensorFlow settings stay as they were."""
    if "tensorflow" in sys.modules or os.environ.get("VAMP_TF_VERBOSE", "") not in ("", "0"):
        return
    if quiet_later_lines:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf  # pylint: disable=import-outside-toplevel
            tf.config.list_physical_devices()
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class _PlainFormatter(logging.Formatter):
    """A log line as the user reads it: the message; 'warning: ' or 'error: ' before the others."""

    def format(self, record):
        message = super().format(record)
        return message if record.levelno <= logging.INFO else f"{record.levelname.lower()}: {message}"


def command_line_logging() -> None:
    """The logging of a binary run under absl.app: vamp_tf's lines at INFO, TensorFlow's (logged
    through absl: checkpoint sharding, SavedModel fingerprints...) at WARNING, and no absl prefix
    ('I1207 02:22:05.871635 140590375521152 train_lib.py:141]') before a line."""
    from absl import logging as absl_logging  # pylint: disable=import-outside-toplevel
    absl_logging.set_verbosity(absl_logging.WARNING)
    logging.getLogger("vamp_tf").setLevel(logging.INFO)
    absl_logging.get_absl_handler().setFormatter(_PlainFormatter())
