"""Model: the VAE or the two-level HVAE, and its networks."""

from absl import flags

from trainers.flags._defaults import MODEL
from vamp_tf import config as config_lib

MODEL_KIND = flags.DEFINE_enum("model", MODEL.model, list(config_lib.MODELS), "vae (one stochastic layer) or hvae (two).")
ARCHITECTURE = flags.DEFINE_enum(
    "architecture", MODEL.architecture, list(config_lib.ARCHITECTURES),
    "The networks: dense (the paper's gated MLPs, VAE or HVAE); for the HVAE conv (the paper's convHVAE) or "
    "pixelcnn (its PixelHVAE: conv encoders, an autoregressive PixelCNN decoder); for the VAE relu_mlp (the S-VAE's "
    "ReLU MLPs, 2h-h / h-2h). Replication only (the paper's code's layouts, for the parity runs): conv_reference, "
    "conv_reference_padded (and PyTorch's symmetric padding), pixelcnn_reference (q(z1 | x, z2) as the code lays it "
    "out), pixelcnn_reference_full (and its decoder: the latent maps masked too, no output bias).")
LATENT_DIM = flags.DEFINE_integer("latent_dim", MODEL.latent_dim, "Size of z (of z1 and of z2 for the hvae).")
HIDDEN_UNITS = flags.DEFINE_integer("hidden_units", MODEL.hidden_units, "Width of the gated layers.")
