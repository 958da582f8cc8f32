"""Start-up of vamp_tf's binaries and tools: TensorFlow without its C++ start-up noise.

TensorFlow's C++ runtime prints 5-7 lines when it loads and probes for CUDA (oneDNN notes,
"Could not find cuda drivers", "failed call to cuInit"), before TF_CPP_MIN_LOG_LEVEL
applies. The binaries and tools hide them by default (call it before anything imports TensorFlow;
`import vamp_tf` does not): stderr (file descriptor 2) goes to a scratch
file while TensorFlow loads and lists its devices, and that output is printed after all if
loading fails. VAMP_TF_VERBOSE=1 shows everything.
"""

import os
import sys
import tempfile


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow (and lists its devices) with the C++ start-up lines hidden."""
    if os.environ.get("VAMP_TF_VERBOSE", "") not in ("", "0"):
        return
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
