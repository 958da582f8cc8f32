"""The floor of a traced step: its matmuls and convolutions alone, timed with the same shapes and dtypes.

A step cannot run faster than its heavy ops (MatMul, BatchMatMul, Conv2D and the convolutions'
two gradients) take on their own; what the step spends beyond that goes to element-wise ops,
casts, reductions, the optimizer's update and scheduling. `heavy_ops(graph)` lists them from a
tf.function's concrete graph (static shapes), `floor_seconds(graph)` times fresh random inputs
of those shapes through the same raw ops, all in one tf.function (so independent ones may run
side by side as in the step).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Optional

import numpy as np
import tensorflow as tf

HEAVY_OPS = ("MatMul", "BatchMatMulV2", "BatchMatMulV3", "Conv2D", "Conv2DBackpropInput",
             "Conv2DBackpropFilter")


@dataclasses.dataclass(frozen=True)
class HeavyOp:
    """One heavy op of a graph: its type, its inputs (shape and dtype, or the constant value of a
    size input) and its non-type attributes."""
    type: str
    inputs: tuple  # ((name, shape tuple, dtype) or (name, constant value, None)), ...
    attrs: tuple   # ((name, value), ...)
    output: tuple = ()  # the shape of its output


def _functions(graph):
    """The function bodies a graph calls (tf.function's nested FuncGraphs), recursively."""
    seen, pending = [], list(getattr(graph, "_functions", {}).values())
    while pending:
        fn = pending.pop()
        body = getattr(fn, "graph", None)
        if body is not None and body not in seen:
            seen.append(body)
            pending.extend(getattr(body, "_functions", {}).values())
    return seen


def _live_ops(graph):
    """The ops of `graph` that its outputs or control outputs (e.g. variable updates) depend on, in
    graph order: an op the runtime prunes (a gradient nobody uses) is not part of the step."""
    live, pending = set(), [t.op for t in graph.outputs] + list(graph.control_outputs)
    while pending:
        op = pending.pop()
        if op in live:
            continue
        live.add(op)
        pending.extend(t.op for t in op.inputs)
        pending.extend(op.control_inputs)
    return [op for op in graph.get_operations() if op in live]


def _shape_value(tensor):
    """The value of a Shape / ShapeN output whose input's shape is static, else None."""
    if tensor.op.type not in ("Shape", "ShapeN"):
        return None
    source = tensor.op.inputs[tensor.value_index if tensor.op.type == "ShapeN" else 0]
    return source.shape.as_list() if source.shape.is_fully_defined() else None


def heavy_ops(graph) -> list[HeavyOp]:
    """The heavy ops of `graph` (a FuncGraph) and of the functions it calls that the outputs need.

    Raises ValueError when an op's input shape is not fully known (trace with concrete shapes).
    """
    found = []
    for g in [graph] + _functions(graph):
        for op in _live_ops(g):
            if op.type not in HEAVY_OPS:
                continue
            inputs = []
            for arg, tensor in zip(op.op_def.input_arg, op.inputs):
                if arg.name in ("input_sizes", "filter_sizes"):
                    value = tf.get_static_value(tensor)
                    if value is None:
                        value = _shape_value(tensor)
                    if value is None:
                        raise ValueError(f"{op.name}: its {arg.name} is not a constant.")
                    inputs.append((arg.name, tuple(int(v) for v in value), None))
                    continue
                if not tensor.shape.is_fully_defined():
                    raise ValueError(f"{op.name}: input {arg.name} has shape {tensor.shape}; trace the step with "
                                     "concrete shapes.")
                inputs.append((arg.name, tuple(tensor.shape.as_list()), tensor.dtype))
            attrs = tuple((a.name, op.get_attr(a.name)) for a in op.op_def.attr if a.type != "type")
            found.append(HeavyOp(op.type, tuple(inputs), attrs, tuple(op.outputs[0].shape.as_list())))
    return found


def _conv_macs(op: HeavyOp) -> int:
    """A convolution's multiply-accumulates, the same for Conv2D and its two gradients: forward
    output positions x filter size (height x width x in x out channels)."""
    shapes = {name: shape for name, shape, _ in op.inputs}
    filter_shape = shapes["filter"] if "filter" in shapes else shapes["filter_sizes"]
    forward_output = op.output if op.type == "Conv2D" else shapes["out_backprop"]
    if dict(op.attrs).get("data_format", b"NHWC") not in (b"NHWC", "NHWC"):
        raise ValueError(f"{op.type}: only NHWC convolutions are counted.")
    positions = forward_output[0] * forward_output[1] * forward_output[2]
    return int(positions * np.prod(filter_shape))


def macs(ops: list[HeavyOp]) -> int:
    """Multiply-accumulates of the MatMul / BatchMatMul and convolution ops."""
    total = 0
    for op in ops:
        if op.type.startswith("Conv2D"):
            total += _conv_macs(op)
            continue
        attrs = dict(op.attrs)
        a, b = op.inputs[0][1], op.inputs[1][1]
        ta = attrs.get("transpose_a", attrs.get("adj_x", False))
        tb = attrs.get("transpose_b", attrs.get("adj_y", False))
        m, k = (a[-1], a[-2]) if ta else (a[-2], a[-1])
        n = b[-2] if tb else b[-1]
        batch = 1
        for d in a[:-2]:
            batch *= d
        total += batch * m * k * n
    return total


def floor_seconds(ops: list[HeavyOp], repeats: Optional[int] = None, seed: int = 0) -> float:
    """Seconds per call of all `ops` together, on random inputs, after a warm-up (best_seconds)."""
    tensors = []
    for i, op in enumerate(ops):
        args = {}
        for j, (name, shape, dtype) in enumerate(op.inputs):
            if dtype is None:
                args[name] = tf.constant(shape, tf.int32)
            else:
                draw = tf.random.stateless_normal(shape, seed=[seed, 1000 * i + j])
                args[name] = tf.cast(draw, dtype)
        tensors.append(args)

    @tf.function(autograph=False)
    def run():
        outs = [getattr(tf.raw_ops, op.type)(**args, **dict(op.attrs)) for op, args in zip(ops, tensors)]
        return tf.add_n([tf.cast(tf.reshape(o, [-1])[0], tf.float32) for o in outs])

    return best_seconds(run, repeats)


def best_seconds(fn, repeats: Optional[int] = None) -> float:
    """Seconds per call of the tf.function `fn` (no arguments, returns a tensor) after a warm-up
    call: the best of 3 rounds of `repeats` calls (None: as many as fill about half a second, at
    least 2 and at most 30)."""
    fn().numpy()
    if repeats is None:
        start = time.perf_counter()
        fn().numpy()
        repeats = int(min(30, max(2, 0.5 / max(time.perf_counter() - start, 1e-6))))
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            out = fn()
        out.numpy()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best
