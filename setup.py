"""vamp_tf: the VAE with a VampPrior (Tomczak & Welling, AISTATS 2018) in TensorFlow 2 / Keras 3."""

import setuptools

# Pinned to the set that was installed and tested together on Python 3.11 (see BUILD.md).
# tf-keras is not imported by vamp_tf, but tensorflow-probability refuses to import without it.
INSTALL_REQUIRES = [
    "tensorflow==2.21.0",
    "tf-keras==2.21.0",
    "tensorflow-probability==0.25.0",
    "tensorflow-datasets==4.9.10",
    "ai-edge-litert==2.3.0",
    "keras==3.15.1",
    "numpy==2.4.6",
    "scipy==1.17.1",
    "matplotlib==3.11.2",
    "absl-py==2.5.1",
    # tensorflow-datasets needs it to prepare any dataset but does not install it.
    "importlib_resources==7.1.0",
    # tf.summary (TensorBoard logs of every run); TensorFlow 2.21 no longer installs it.
    "tensorboard==2.21.0",
]

setuptools.setup(
    name="vamp_tf",
    version="0.1.0",
    description=__doc__,
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10,<3.13",
    # The product only: the library, the trainer and the exporter. tools/ and bench/ are
    # repository tooling, run from a checkout.
    packages=setuptools.find_packages(include=["vamp_tf", "vamp_tf.*", "trainers", "trainers.*", "export"]),
    # The shipped trained models (vamp_tf.presets): their manifest and .keras files.
    package_data={"vamp_tf.datasets": ["checksums.tsv"], "vamp_tf.presets": ["manifest.json", "*.keras"]},
    install_requires=INSTALL_REQUIRES,
    extras_require={"test": ["pytest==9.2.0", "pytest-xdist==3.8.0"]},
    entry_points={
        "console_scripts": [
            "vamp-train=trainers.main:run",
            "vamp-export=export.main:run",
            "vamp-sample=export.sample:run",
        ]
    },
)
