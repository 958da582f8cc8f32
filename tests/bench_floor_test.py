"""Tests of bench/floor.py: the heavy ops of a traced step, their MACs, and their replay."""

import numpy as np
import pytest
import tensorflow as tf

from bench import floor


def _step_graph():
    w = tf.Variable(tf.ones([6, 4]))
    k = tf.Variable(tf.ones([3, 3, 1, 2]))

    @tf.function(autograph=False)
    def step(x, images):
        with tf.GradientTape() as tape:
            y = tf.matmul(x, w)                                      # [5, 6] x [6, 4]
            c = tf.nn.conv2d(images, k, strides=1, padding="SAME")   # [2, 8, 8, 1] * [3, 3, 1, 2]
            loss = tf.reduce_sum(y) + tf.reduce_sum(c)
        return loss, tape.gradient(loss, [w, k])

    return step.get_concrete_function(tf.zeros([5, 6]), tf.zeros([2, 8, 8, 1])).graph


def test_heavy_ops_of_a_step_are_its_matmuls_and_convolutions_with_their_gradients():
    ops = floor.heavy_ops(_step_graph())
    types = sorted(op.type for op in ops)
    # x^T dy for w, and no gradient for the inputs: the tape builds the convolution's, but nothing uses it
    assert types == ["Conv2D", "Conv2DBackpropFilter", "MatMul", "MatMul"]
    forward = [op for op in ops if op.type == "MatMul" and not dict(op.attrs)["transpose_a"]][0]
    assert [shape for _, shape, _ in forward.inputs] == [(5, 6), (6, 4)]
    backprop = [op for op in ops if op.type == "Conv2DBackpropFilter"][0]
    assert ("filter_sizes", (3, 3, 1, 2), None) in backprop.inputs  # a size input is kept as its value


def test_macs_count_transposes_and_convolutions():
    ops = floor.heavy_ops(_step_graph())
    matmuls = 5 * 6 * 4 + 6 * 5 * 4  # forward [5,6]x[6,4]; gradient x^T [6,5] x dy [5,4]
    convolutions = 2 * (2 * 8 * 8) * (3 * 3 * 1 * 2)  # Conv2D and its filter gradient: positions x filter
    assert floor.macs(ops) == matmuls + convolutions


def test_macs_of_a_strided_convolution_and_its_input_gradient_agree_with_tensorflows_count():
    k = tf.Variable(tf.ones([3, 3, 2, 4]))

    @tf.function(autograph=False)
    def step(images):
        with tf.GradientTape() as tape:
            tape.watch(images)
            loss = tf.reduce_sum(tf.nn.conv2d(images, k, strides=2, padding="VALID"))
        return loss, tape.gradient(loss, images)

    graph = step.get_concrete_function(tf.zeros([3, 9, 9, 2])).graph
    ops = floor.heavy_ops(graph)
    assert sorted(op.type for op in ops) == ["Conv2D", "Conv2DBackpropInput"]
    forward = 3 * 4 * 4 * (3 * 3 * 2 * 4)  # output 4x4 per image
    assert floor.macs(ops) == 2 * forward
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options.update(account_type_regexes=["Conv2D$"], output="none")
    assert tf.compat.v1.profiler.profile(graph, options=options).total_float_ops == 2 * forward


def test_floor_replays_the_ops_with_their_shapes():
    ops = floor.heavy_ops(_step_graph())
    seconds = floor.floor_seconds(ops, repeats=2)
    assert np.isfinite(seconds) and seconds > 0


def test_unknown_shapes_are_refused_with_the_fix():
    @tf.function(autograph=False, input_signature=[tf.TensorSpec([None, 6])])
    def f(x):
        return tf.matmul(x, tf.ones([6, 4]))

    with pytest.raises(ValueError, match="concrete shapes"):
        floor.heavy_ops(f.get_concrete_function().graph)
