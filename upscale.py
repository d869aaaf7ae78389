"""Learnable upsampling: a transposed convolution that starts as bilinear interpolation.

Run as a script to see the initialisation at work: the image comes out f times larger
and otherwise unchanged.

    python upscale.py INPUT OUTPUT [--factor 8]
"""
from roadseg.core import console

console.quiet_tensorflow()  # first: TensorFlow's start-up notes stay off the screen

import numpy as np
import tensorflow.compat.v1 as tf

from roadseg.core import files
from roadseg.core.errors import ArgumentParser, UserError, run_script
from roadseg.data import images


def kernel_size(factor):
    """Return the transposed convolution's kernel size for an upscaling factor."""
    return 2 * factor - factor % 2


def bilinear_filter(factor, n_channels):
    """Return a [k, k, n_channels, n_channels] kernel that interpolates bilinearly.

    Each channel maps to itself only (the off-diagonal blocks are zero), so channels
    never mix at initialisation.
    """
    size = kernel_size(factor)
    centre = factor - 1 if size % 2 == 1 else factor - 0.5
    ramp = 1 - np.abs(np.arange(size) - centre) / factor
    kernel_2d = np.outer(ramp, ramp).astype(np.float32)
    weights = np.zeros([size, size, n_channels, n_channels], np.float32)
    weights[:, :, np.arange(n_channels), np.arange(n_channels)] = kernel_2d[:, :, None]
    return weights


def upsample(x, n_channels, upscale_factor, name):
    """Return `x` [B, H, W, n_channels] upscaled to [B, f*H, f*W, n_channels].

    A transposed convolution with stride f, SAME padding and a trainable kernel that starts
    as bilinear interpolation; the output size follows the input's dynamic shape.

    An odd channel count runs with one more, zero, channel (in and out), then is cut back:
    oneDNN's bfloat16 transposed convolution takes a path about 100 times slower for odd
    channel counts (7 synthetic classes, 11 CamVid, 19 and 29 Cityscapes), and the zero
    channel changes no value. The variable keeps its [k, k, n, n] shape.
    """
    f = upscale_factor
    with tf.variable_scope(name):
        weights = tf.get_variable(
            'weights', initializer=tf.constant(bilinear_filter(f, n_channels)), trainable=True)
        extra = n_channels % 2
        if extra:
            x = tf.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]])
            weights = tf.pad(weights, [[0, 0], [0, 0], [0, extra], [0, extra]])
        shape = tf.shape(x)
        output_shape = tf.stack([shape[0], shape[1] * f, shape[2] * f, n_channels + extra])
        output = tf.nn.conv2d_transpose(x, weights, output_shape, strides=[1, f, f, 1],
                                        padding='SAME')[..., :n_channels]
        static = x.shape.as_list()
        output.set_shape([static[0],
                          static[1] * f if static[1] else None,
                          static[2] * f if static[2] else None,
                          n_channels])
        return tf.identity(output, name='output')


def upscale_image(image, factor):
    """Return `image` (uint8 HxWxC) upscaled `factor` times by the initial upsampling layer."""
    graph = tf.Graph()
    with graph.as_default():
        images = tf.placeholder(tf.float32, [None, None, None, image.shape[2]])
        upscaled = upsample(images, image.shape[2], factor, 'upscaled')
        with tf.Session(graph=graph) as session:
            session.run(tf.global_variables_initializer())
            result = session.run(upscaled, {images: image[None].astype(np.float32)})
    return np.clip(np.rint(result[0]), 0, 255).astype(np.uint8)


def parse_args(argv=None):
    """Return the command line arguments."""
    parser = ArgumentParser(
        description='Upscale an image with the bilinear-initialised transposed convolution.')
    parser.add_argument('input', help='image to read (any format OpenCV reads)')
    parser.add_argument('output', help='image to write, f times larger')
    parser.add_argument('--factor', type=int, default=8, help='upscaling factor (default 8)')
    return parser.parse_args(argv)


def main(argv=None):
    """Read, upscale and write one image."""
    args = parse_args(argv)
    if args.factor < 1:
        raise UserError(f'--factor must be a positive integer, got {args.factor}')
    files.refuse_overwriting_inputs([args.output], [args.input])
    image = images.read_image(args.input)
    print(f'[i] Original size: {image.shape[1]}x{image.shape[0]}')
    upscaled = upscale_image(image, args.factor)
    images.write_image(args.output, upscaled)
    print(f'[i] Upscaled size: {upscaled.shape[1]}x{upscaled.shape[0]} -> {args.output}')
    return 0


if __name__ == '__main__':
    tf.disable_eager_execution()
    run_script(main)
