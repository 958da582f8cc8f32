"""A TFDS builder for Frey Faces, registered as 'frey_faces' when vamp_tf.datasets is imported.

1965 gray 28x20 frames of Brendan Frey's face (Frey, Colmenarez & Huang, CVPR 1998), the
file frey_rawface.mat of Sam Roweis' data page. The builder downloads it, or takes it
from the manual directory (`tfds.download.DownloadConfig(manual_dir=...)`). It has a
single 'train' split of all 1965 images, each with its frame 'index' (TFDS stores
examples in a hashed order; the index restores the file's). vamp_tf.datasets splits it
1565 / 200 / 200 with a seeded shuffle.
"""

import os

import numpy as np
import tensorflow_datasets as tfds

URL = "https://cs.nyu.edu/~roweis/data/frey_rawface.mat"
FILENAME = "frey_rawface.mat"

_CITATION = """@inproceedings{frey1998mixtures,
  title={Mixtures of local linear subspaces for face recognition},
  author={Frey, Brendan J and Colmenarez, Antonio and Huang, Thomas S},
  booktitle={CVPR}, year={1998}}"""


class FreyFaces(tfds.core.GeneratorBasedBuilder):
    """Frey Faces: 1965 images of 28 x 20 x 1 uint8."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = f"Place {FILENAME} (from {URL}) in the manual directory."

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            description="Frey Faces: 1965 gray 28x20 frames of one face.",
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(28, 20, 1)),
                "index": tfds.features.Scalar(dtype=np.int32)}),
            homepage="https://cs.nyu.edu/~roweis/data.html",
            citation=_CITATION)

    def _split_generators(self, dl_manager):
        manual = os.path.join(str(dl_manager.manual_dir), FILENAME) if dl_manager.manual_dir else None
        path = manual if manual and os.path.isfile(manual) else dl_manager.download(URL)
        return {"train": self._generate_examples(path)}

    def _generate_examples(self, path):
        import scipy.io  # pylint: disable=import-outside-toplevel
        faces = scipy.io.loadmat(str(path))["ff"].T.reshape(-1, 28, 20, 1).astype(np.uint8)
        for index, image in enumerate(faces):
            yield index, {"image": image, "index": index}
