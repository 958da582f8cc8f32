"""Which variables hold several of the paper's code's tensors side by side.

vamp_tf computes a gated layer's h and g as one kernel of twice the width, a Gaussian head's
mean and log-variance as one, a likelihood head's parameters as one; the paper's PyTorch code
(jmtomczak/vae_vampprior) keeps each as its own tensor. That matters only where a tensor's
norm enters the update: its AdamNormGrad divides each tensor's gradient by that tensor's norm
(optimizers.AdamNormGrad with `parts`). A layer that fuses says so with a `fused_parts()`
method: {variable path: number of equal pieces along the last axis}.
"""

from __future__ import annotations

import keras


def layers_in(root):
    """Every Keras layer under root (root included), each once, in the order the attributes were set."""
    seen, order, stack = set(), [], [root]
    while stack:
        layer = stack.pop(0)
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        order.append(layer)
        stack[:0] = [v for k, v in vars(layer).items() if isinstance(v, keras.layers.Layer) and not k.startswith("_")]
    return order


def fused_parts(model) -> dict[str, int]:
    """{variable path: pieces} of a built model's fused variables (the module docstring); a
    variable not listed is one tensor of the code's."""
    parts = {}
    for layer in layers_in(model):
        if hasattr(layer, "fused_parts"):
            parts.update(layer.fused_parts())
    return parts


def side_by_side(layer, parts: int) -> dict[str, int]:
    """{path: parts} for the kernel and bias (if any) of a Dense or Conv2D `layer` whose outputs are
    `parts` of the code's tensors side by side; nothing for parts < 2."""
    if parts < 2:
        return {}
    return {v.path: parts for v in (layer.kernel, layer.bias) if v is not None}
