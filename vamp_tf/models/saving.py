"""Reading a saved model file (model.save(path), a `.keras` zip) with its damage named first.

`load_model(path)` checks the file before Keras reads it: that it exists, is a whole zip (its
central directory and every member's CRC-32), and holds the members Keras writes (config.json,
model.weights.h5). A damaged file raises DamagedModelFile in one sentence that names it and what to
do, where Keras would say "File not found" of a file that exists, or zipfile "Bad CRC-32 for file
'model.weights.h5'" without the file's name.
"""

from __future__ import annotations

import os
import zipfile

MEMBERS = ("config.json", "model.weights.h5")


class DamagedModelFile(ValueError):
    """A .keras file that is missing, truncated or altered."""


def check_keras_file(path: str) -> str:
    """`path`, once it is a whole Keras model file; DamagedModelFile otherwise."""
    fix = "save the model again (model.save), export it again (python -m export.main), or restore the file"
    if not os.path.isfile(path):
        raise DamagedModelFile(f"{path} does not exist or is not a file: pass the path of a .keras file.")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            bad = archive.testzip()  # reads every member, checking its CRC-32
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise DamagedModelFile(f"{path} is not a whole Keras model file ({e}): it is truncated or damaged; "
                               f"{fix}.") from None
    if bad is not None:
        raise DamagedModelFile(f"{path} is damaged: its member {bad} fails its CRC-32 check; {fix}.")
    missing = [m for m in MEMBERS if m not in names]
    if missing:
        raise DamagedModelFile(f"{path} is a zip without {', '.join(missing)}, so not a Keras model file; {fix}.")
    return path


def load_model(path: str, compile: bool = False):  # pylint: disable=redefined-builtin
    """keras.models.load_model of a vamp_tf model file, checked first (DamagedModelFile)."""
    import keras  # pylint: disable=import-outside-toplevel
    from vamp_tf.models import base  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    return keras.models.load_model(check_keras_file(path), compile=compile)
