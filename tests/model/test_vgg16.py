"""VGG16 as a function: its end points and strides, and fc6/fc7 as matrix products."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from roadseg.model import tensor_names as names
from roadseg.model import vgg16


def test_fc6_by_matmul_equals_the_convolution():
    rng = np.random.RandomState(5)
    x = rng.normal(0, 1, [2, 3, 8, 16]).astype(np.float32)
    weights = rng.normal(0, 0.1, [7, 7, 16, 24]).astype(np.float32)
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        by_matmul = vgg16.conv2d_by_matmul(tf.constant(x), tf.constant(weights))
        convolved = tf.nn.conv2d(tf.constant(x), tf.constant(weights), 1, 'SAME')
        got, expected = session.run([by_matmul, convolved])
    assert got.shape == (2, 3, 8, 24)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_end_points_have_the_contract_names_strides_and_widths():
    widths = vgg16.vgg16_widths(1 / 32)
    assert list(widths) == list(vgg16.LAYER_NAMES)
    assert (widths['conv1_1'], widths['conv3_3'], widths['conv5_3'], widths['fc7']) == \
        (2, 8, 16, 128)
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        layers, variables = vgg16.build_vgg16(widths)
        session.run(tf.global_variables_initializer())
        image = np.full([1, 64, 96, 3], 120, np.float32)
        shapes = [value.shape for value in session.run(
            layers, {names.tensor(graph, names.IMAGE_INPUT): image})]
        for name in names.BACKBONE:
            assert names.tensor(graph, name) is not None
        assert [layer.op.name for layer in layers] == [names.LAYER3, names.LAYER4, names.LAYER7]
    # Strides 8, 16 and 32; channels of conv3_3, conv4_3 and fc7.
    assert shapes == [(1, 8, 12, 8), (1, 4, 6, 16), (1, 2, 3, 128)]
    assert sorted(variables) == sorted(vgg16.LAYER_NAMES)
    assert variables['fc6'][0].shape.as_list() == [7, 7, 16, 128]
    assert variables['conv1_1'][1].shape.as_list() == [2]


def test_mean_is_subtracted_inside_and_keep_prob_defaults_to_one():
    widths = vgg16.vgg16_widths(1 / 32)
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        vgg16.build_vgg16(widths)
        session.run(tf.global_variables_initializer())
        centred = graph.get_tensor_by_name('sub:0')   # the first op after the input
        mean = np.array(vgg16.VGG_MEAN_BGR, np.float32)
        value = session.run(centred, {names.tensor(graph, names.IMAGE_INPUT):
                                      np.broadcast_to(mean, [1, 32, 32, 3])})
        assert np.abs(value).max() == pytest.approx(0, abs=1e-4)
        assert session.run(names.tensor(graph, names.KEEP_PROB)) == 1.0
        # Without dropout, two runs give the same fc7.
        image = np.random.RandomState(0).uniform(0, 255, [1, 64, 64, 3]).astype(np.float32)
        layer7 = names.tensor(graph, names.LAYER7)
        feed = {names.tensor(graph, names.IMAGE_INPUT): image}
        np.testing.assert_array_equal(session.run(layer7, feed), session.run(layer7, feed))


def test_batch_normalisation_uses_the_batch_when_training_and_the_averages_otherwise():
    widths = vgg16.vgg16_widths(1 / 32)
    rng = np.random.RandomState(3)
    batch = rng.uniform(0, 255, [2, 32, 32, 3]).astype(np.float32)
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        layers, _ = vgg16.build_vgg16(widths, batch_norm=True)
        session.run(tf.global_variables_initializer())
        image_input = names.tensor(graph, names.IMAGE_INPUT)
        training = names.tensor(graph, names.IS_TRAINING)
        conv = graph.get_tensor_by_name('conv1_1/batch_norm/normalised:0')
        averages = {v.op.name: v for v in tf.global_variables() if 'moving_' in v.op.name}
        assert len(averages) == 2 * 13
        # Training: each channel of the normalised conv1_1 has mean 0 and variance 1 over
        # the batch (gamma 1, beta 0 at the start).
        normalised = session.run(conv, {image_input: batch, training: True})
        np.testing.assert_allclose(normalised.mean(axis=(0, 1, 2)), 0, atol=1e-4)
        np.testing.assert_allclose(normalised.var(axis=(0, 1, 2)), 1, rtol=1e-2)
        # Not training (the default): the moving averages, still 0 and 1, so x / sqrt(1+eps);
        # one photo alone gives the same as in a batch.
        alone = session.run(conv, {image_input: batch[:1]})
        together = session.run(conv, {image_input: batch})
        np.testing.assert_allclose(alone[0], together[0], rtol=1e-5, atol=1e-5)
        # The update ops move the averages toward the batch's statistics.
        session.run(tf.get_collection(tf.GraphKeys.UPDATE_OPS),
                    {image_input: batch, training: True})
        mean = session.run(averages['conv1_1/batch_norm/moving_mean'])
        assert np.abs(mean).max() > 1e-3
        assert len(layers) == 3


def test_without_batch_normalisation_there_is_no_training_switch():
    with tf.Graph().as_default() as graph:
        vgg16.build_vgg16(vgg16.vgg16_widths(1 / 32))
        assert names.IS_TRAINING not in {op.name for op in graph.get_operations()}
        assert not tf.get_collection(tf.GraphKeys.UPDATE_OPS)
