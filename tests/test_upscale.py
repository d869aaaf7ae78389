"""The bilinear-initialised transposed convolution of upscale.py."""
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from conftest import ROOT
from upscale import bilinear_filter, kernel_size, upsample


def run_upsample(images, factor):
    """Return (upsampled images, gradient of a weighted sum w.r.t. the kernel, kernel)."""
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        x = tf.placeholder(tf.float32, [None, None, None, images.shape[-1]])
        y = upsample(x, images.shape[-1], factor, 'up')
        kernel = tf.trainable_variables()[0]
        gradient = tf.gradients(tf.reduce_sum(y * tf.random.uniform(tf.shape(y))), kernel)[0]
        session.run(tf.global_variables_initializer())
        return session.run([y, gradient], {x: images}) + [kernel.shape.as_list()]


@pytest.mark.parametrize('factor', [2, 3, 4, 8, 16, 32])
@pytest.mark.parametrize('batch,height,width', [(1, 3, 5), (3, 7, 1), (2, 4, 4)])
def test_output_is_factor_times_input(factor, batch, height, width):
    images = np.ones([batch, height, width, 2], np.float32)
    output, _, kernel = run_upsample(images, factor)
    assert output.shape == (batch, height * factor, width * factor, 2)
    assert kernel == [kernel_size(factor)] * 2 + [2, 2]


@pytest.mark.parametrize('factor', [2, 3, 5, 8, 16])
def test_ramp_interior_is_linear_interpolation(factor):
    height, width = 6, 9
    rows, cols = np.mgrid[:height, :width].astype(np.float32)
    images = (2.5 * rows + 3.0 * cols + 1.0)[None, :, :, None]
    output, _, _ = run_upsample(images, factor)
    # Output pixel j samples the input at (j + 0.5) / f - 0.5 (pixel centres aligned).
    u = (np.arange(height * factor) + 0.5) / factor - 0.5
    v = (np.arange(width * factor) + 0.5) / factor - 0.5
    expected = 2.5 * u[:, None] + 3.0 * v[None, :] + 1.0
    inside = ((u >= 0) & (u <= height - 1))[:, None] & ((v >= 0) & (v <= width - 1))[None, :]
    assert inside.sum() > 0.5 * inside.size
    np.testing.assert_allclose(output[0, :, :, 0][inside], expected[inside], atol=1e-4)


def test_channels_do_not_mix():
    images = np.zeros([1, 4, 5, 3], np.float32)
    images[0, :, :, 1] = np.random.RandomState(0).uniform(1, 255, [4, 5])
    output, _, _ = run_upsample(images, 4)
    assert np.all(output[..., 0] == 0) and np.all(output[..., 2] == 0)
    assert output[..., 1].min() > 0
    weights = bilinear_filter(4, 3)
    off_diagonal = weights * (1 - np.eye(3))[None, None]
    assert np.all(off_diagonal == 0) and np.all(np.diagonal(weights, axis1=2, axis2=3) > 0)


def test_gradient_reaches_the_filter():
    images = np.random.RandomState(1).uniform(0, 1, [2, 3, 4, 2]).astype(np.float32)
    _, gradient, _ = run_upsample(images, 8)
    assert np.abs(gradient).sum() > 0


def run_script(*args):
    """Run upscale.py and return the completed process."""
    return subprocess.run([sys.executable, os.path.join(ROOT, 'upscale.py'), *args],
                          capture_output=True, text=True, timeout=120)


def test_script_writes_image_factor_times_larger(tmp_path):
    image = np.zeros([10, 16, 3], np.uint8)
    image[:, :8] = (0, 0, 255)
    image[:, 8:] = (255, 0, 0)
    source, target = str(tmp_path / 'in.png'), str(tmp_path / 'out.png')
    cv2.imwrite(source, image)
    result = run_script(source, target, '--factor', '4')
    assert result.returncode == 0, result.stderr
    upscaled = cv2.imread(target)
    assert upscaled.shape == (40, 64, 3)
    # Far from the colour edge and the border the colours come through unchanged.
    assert tuple(upscaled[20, 8]) == (0, 0, 255) and tuple(upscaled[20, 56]) == (255, 0, 0)


def test_script_refuses_unreadable_input(tmp_path):
    broken = tmp_path / 'broken.png'
    broken.write_bytes(b'not an image')
    result = run_script(str(broken), str(tmp_path / 'out.png'))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith('[!] cannot decode')
    assert 'Traceback' not in result.stderr
    assert not (tmp_path / 'out.png').exists()


@pytest.mark.parametrize('channels', [3, 7, 11])
def test_an_odd_channel_count_gives_the_plain_transposed_convolution(channels):
    # upsample adds a zero channel for odd counts (oneDNN's bf16 speed); the values, the
    # gradient and the kernel's shape are those of the plain transposed convolution.
    rng = np.random.RandomState(channels)
    images = rng.uniform(0, 1, [2, 3, 4, channels]).astype(np.float32)
    kernel_values = rng.normal(0, 0.1, [16, 16, channels, channels]).astype(np.float32)
    with tf.Graph().as_default(), tf.Session() as session:
        x = tf.constant(images)
        y = upsample(x, channels, 8, 'up')
        kernel = tf.trainable_variables()[0]
        plain = tf.nn.conv2d_transpose(x, kernel, [2, 24, 32, channels], [1, 8, 8, 1], 'SAME')
        weights = tf.constant(rng.uniform(0, 1, [2, 24, 32, channels]).astype(np.float32))
        gradients = [tf.gradients(tf.reduce_sum(out * weights), kernel)[0]
                     for out in (y, plain)]
        session.run(tf.global_variables_initializer())
        kernel.load(kernel_values, session)
        got, expected, gradient, plain_gradient = session.run([y, plain, *gradients])
    assert kernel.shape.as_list() == [16, 16, channels, channels]
    assert got.shape == expected.shape == (2, 24, 32, channels)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gradient, plain_gradient, rtol=1e-4, atol=1e-5)
