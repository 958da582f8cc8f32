"""vamp_tf's own TFDS builders, for the datasets TFDS's catalogue does not have.

Importing this module registers them ('frey_faces', 'caltech101_silhouettes'); vamp_tf
imports it only when it reads a dataset through TFDS, so `import vamp_tf` leaves the
TFDS registry alone. Each builder downloads its one canonical file, or takes it from the
manual directory (`tfds.download.DownloadConfig(manual_dir=...)`), and has a single
'train' split of every image with its 'index' in the file (TFDS stores examples in a hashed
order; the index restores the file's). vamp_tf.datasets splits the pool with a seed.
"""

import os

import numpy as np
import tensorflow_datasets as tfds

from vamp_tf.datasets.local import caltech_images


class _SingleFileBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """One .mat file in, one 'train' split of (image, index) out."""

    URL = ""
    FILENAME = ""
    SHAPE = (28, 28, 1)
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}

    def _features(self):
        return tfds.features.FeaturesDict({"image": tfds.features.Image(shape=self.SHAPE),
                                           "index": tfds.features.Scalar(dtype=np.int32)})

    def _split_generators(self, dl_manager):
        manual = os.path.join(str(dl_manager.manual_dir), self.FILENAME) if dl_manager.manual_dir else None
        path = manual if manual and os.path.isfile(manual) else dl_manager.download(self.URL)
        return {"train": self._generate_examples(path)}

    def _images(self, path) -> np.ndarray:
        raise NotImplementedError

    def _generate_examples(self, path):
        for index, image in enumerate(self._images(path)):
            yield index, {"image": image[..., np.newaxis], "index": index}


class FreyFaces(_SingleFileBuilder):
    """Frey Faces: 1965 gray 28 x 20 frames of Brendan Frey's face (Frey, Colmenarez &
    Huang, CVPR 1998), the file frey_rawface.mat of Sam Roweis' data page."""

    URL = "https://cs.nyu.edu/~roweis/data/frey_rawface.mat"
    FILENAME = "frey_rawface.mat"
    SHAPE = (28, 20, 1)
    MANUAL_DOWNLOAD_INSTRUCTIONS = f"Place {FILENAME} (from {URL}) in the manual directory."

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self, description="Frey Faces: 1965 gray 28x20 frames of one face.", features=self._features(),
            homepage="https://cs.nyu.edu/~roweis/data.html",
            citation="@inproceedings{frey1998mixtures, title={Mixtures of local linear subspaces for face "
                     "recognition}, author={Frey, Brendan J and Colmenarez, Antonio and Huang, Thomas S}, "
                     "booktitle={CVPR}, year={1998}}")

    def _images(self, path):
        import scipy.io  # pylint: disable=import-outside-toplevel
        return scipy.io.loadmat(str(path))["ff"].T.reshape(-1, 28, 20).astype(np.uint8)


class Caltech101Silhouettes(_SingleFileBuilder):
    """Caltech 101 Silhouettes 28 x 28 (Marlin et al., AISTATS 2010): 8,671 binary
    silhouettes of 101 object classes, the full file caltech101_silhouettes_28.mat of
    Benjamin Marlin's data page, as upright images with 1 = object."""

    URL = "https://people.cs.umass.edu/~marlin/data/caltech101_silhouettes_28.mat"
    FILENAME = "caltech101_silhouettes_28.mat"
    MANUAL_DOWNLOAD_INSTRUCTIONS = f"Place {FILENAME} (from {URL}) in the manual directory."

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self, description="Caltech 101 Silhouettes: 8671 binary 28x28 object silhouettes.",
            features=self._features(), homepage="https://people.cs.umass.edu/~marlin/data.shtml",
            citation="@inproceedings{marlin2010inductive, title={Inductive principles for restricted Boltzmann "
                     "machine learning}, author={Marlin, Benjamin and Swersky, Kevin and Chen, Bo and de Freitas, "
                     "Nando}, booktitle={AISTATS}, year={2010}}")

    def _images(self, path):
        import scipy.io  # pylint: disable=import-outside-toplevel
        return caltech_images(scipy.io.loadmat(str(path))["X"])

