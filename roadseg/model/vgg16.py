"""VGG16 (Simonyan and Zisserman) as a function that builds it in the current TF1 graph.

The graph is the same whichever weights fill it (Keras' ImageNet file or a from-scratch
initialisation): 13 3x3 convolutions in five blocks, each block ending in 2x2 max pooling,
then fc6 (a 7x7 convolution) and fc7 (1x1), as the fully convolutional network needs them.
For training from scratch, the 13 convolutions may each be followed by batch normalisation
(Ioffe and Szegedy), which lets a randomly initialised VGG16 learn faster at higher rates.
"""
import numpy as np
import tensorflow.compat.v1 as tf

from roadseg.data.images import VGG_MEAN_BGR
from roadseg.model import tensor_names as names

VGG16_BLOCKS = (2, 2, 3, 3, 3)              # convolutions per block
VGG16_CHANNELS = (64, 128, 256, 512, 512)   # channels of each block
FC_UNITS = 4096
FC6_SIZE = 7
PIXEL_STD = 64.0   # typical spread of mean-subtracted 0..255 pixels, for conv1_1's init
BN_SCOPE = 'batch_norm'    # conv<b>_<i>/batch_norm/{gamma, beta, moving_mean, moving_variance}
BN_EPSILON = 1e-3
BN_MOMENTUM = 0.9          # of the moving averages: a few epochs of a small data set suffice
LAYER_NAMES = tuple(f'conv{b}_{i}' for b, n in enumerate(VGG16_BLOCKS, 1)
                    for i in range(1, n + 1)) + ('fc6', 'fc7')


def vgg16_widths(width=1.0):
    """Return {layer name: output channels} of VGG16 scaled by the width multiplier."""
    def scaled(channels):
        return max(1, int(round(channels * width)))
    widths = {f'conv{b}_{i}': scaled(channels)
              for b, (n, channels) in enumerate(zip(VGG16_BLOCKS, VGG16_CHANNELS), 1)
              for i in range(1, n + 1)}
    widths['fc6'] = widths['fc7'] = scaled(FC_UNITS)
    return widths


def conv2d_by_matmul(x, weights):
    """Return conv2d(x, weights) (stride 1, SAME) as image patches times one matrix.

    For fc6, a 7x7 convolution over a map of a few pixels, one large matrix product runs
    much faster in bfloat16 than the convolution kernel does, and no slower in fp32. fc7,
    a 1x1 convolution on the same few pixels, is the pixels times the matrix: forward and
    backward run 1.5 times faster in fp32 and 3 times faster in bf16 than as convolutions.
    """
    size, _, in_channels, out_channels = weights.shape.as_list()
    patches = x if size == 1 else \
        tf.image.extract_patches(x, [1, size, size, 1], [1, 1, 1, 1], [1, 1, 1, 1], 'SAME')
    matrix = tf.reshape(weights, [size * size * in_channels, out_channels])
    return tf.tensordot(patches, matrix, axes=1)


def batch_norm(x, training):
    """Return `x` [B, H, W, C] batch-normalised, in the current variable scope.

    When `training` (a bool tensor) is true, by the batch's own mean and variance, and the
    moving averages are updated (their update ops go to tf.GraphKeys.UPDATE_OPS, which the
    training step runs); otherwise by the moving averages, as at inference. The moving
    averages are averaged across devices when several train (MEAN aggregation).
    """
    channels = x.shape.as_list()[-1]
    with tf.variable_scope(BN_SCOPE):
        gamma = tf.get_variable('gamma', [channels], initializer=tf.ones_initializer())
        beta = tf.get_variable('beta', [channels], initializer=tf.zeros_initializer())
        moving = [tf.get_variable(name, [channels], initializer=initializer, trainable=False,
                                  aggregation=tf.VariableAggregation.MEAN)
                  for name, initializer in (('moving_mean', tf.zeros_initializer()),
                                            ('moving_variance', tf.ones_initializer()))]
        # The gradient of a training step reaches into the cond's branches from outside,
        # which a TF1 graph allows only when the branches expose their intermediates; only
        # this cond is built so (None: TensorFlow's own choice, for every other one).
        tf.compat.v1.experimental.output_all_intermediates(True)
        try:
            normalised, mean, variance = tf.cond(
                training,
                lambda: tf.nn.fused_batch_norm(x, gamma, beta, epsilon=BN_EPSILON,
                                               is_training=True),
                lambda: tf.nn.fused_batch_norm(x, gamma, beta, *moving, epsilon=BN_EPSILON,
                                               is_training=False))
        finally:
            tf.compat.v1.experimental.output_all_intermediates(None)
        for average, value in zip(moving, (mean, variance)):
            tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, average.assign(
                average * BN_MOMENTUM + value * (1 - BN_MOMENTUM)))
        return tf.identity(normalised, name='normalised')


def conv_relu(x, name, size, channels, input_std=1.0, by_matmul=False, training=None):
    """Return relu(conv(x) + b) with He-initialised weights `name/weights`, `name/biases`.

    He initialisation keeps the activations' scale from layer to layer; dividing by
    `input_std` makes that scale about one instead of the raw pixels' tens. `by_matmul`
    computes the convolution as patches times a matrix (same weights, same result). With
    `training` (a bool tensor), the convolution is batch-normalised before the bias.
    """
    in_channels = x.shape.as_list()[-1]
    with tf.variable_scope(name):
        weights = tf.get_variable(
            'weights', [size, size, in_channels, channels],
            initializer=tf.random_normal_initializer(
                stddev=np.sqrt(2.0 / (size * size * in_channels)) / input_std))
        biases = tf.get_variable('biases', [channels], initializer=tf.zeros_initializer())
        convolved = conv2d_by_matmul(x, weights) if by_matmul else \
            tf.nn.conv2d(x, weights, 1, 'SAME')
        if training is not None:
            convolved = batch_norm(convolved, training)
        return tf.nn.relu(tf.nn.bias_add(convolved, biases))


def build_vgg16(widths, image_input=None, keep_prob=None, fc_by_matmul=True, dropout=True,
                batch_norm=False, training=None):
    """Build VGG16 in the current graph; return ([layer 3, 4, 7 tensors], {layer: (w, b)}).

    Creates the backbone's named tensors (tensor_names.BACKBONE): the image input (BGR
    0..255; the Caffe means are subtracted here), keep_prob (1.0 unless fed), layer3_out
    (pool3, stride 8), layer4_out (pool4, stride 16) and layer7_out (fc7 after dropout,
    stride 32). `image_input` and `keep_prob` may be given as tensors to build on (one
    device's part of a batch); by default they are new placeholders. `fc_by_matmul=False`
    computes fc6 and fc7 as plain convolutions, as the original vgg.zip graph does (the
    benchmark's baseline, and what TFLite can run); the weights and results are the same.
    `dropout=False` leaves the dropout ops out (an inference graph for an export: OpenCV's
    dnn rejects their random ops even at keep_prob 1). `batch_norm` normalises the 13
    convolutions; `is_training` (tensor_names.IS_TRAINING, false unless fed, or `training`
    on one device's part) says whether by the batch or by the moving averages.
    """
    if image_input is None:
        image_input = tf.placeholder(tf.float32, [None, None, None, 3], name=names.IMAGE_INPUT)
    else:
        image_input = tf.identity(image_input, name=names.IMAGE_INPUT)
    if keep_prob is None:
        keep_prob = tf.placeholder_with_default(1.0, [], name=names.KEEP_PROB)
    else:
        keep_prob = tf.identity(keep_prob, name=names.KEEP_PROB)
    if batch_norm:
        training = (tf.placeholder_with_default(False, [], name=names.IS_TRAINING)
                    if training is None else tf.identity(training, name=names.IS_TRAINING))
    else:
        training = None
    x = image_input - tf.constant(VGG_MEAN_BGR, tf.float32)
    pools = []
    for b, n in enumerate(VGG16_BLOCKS, 1):
        for i in range(1, n + 1):
            x = conv_relu(x, f'conv{b}_{i}', 3, widths[f'conv{b}_{i}'],
                          PIXEL_STD if (b, i) == (1, 1) else 1.0, training=training)
        x = tf.nn.max_pool2d(x, 2, 2, 'SAME', name=f'pool{b}')
        pools.append(x)
    for name, size in (('fc6', FC6_SIZE), ('fc7', 1)):
        x = conv_relu(x, name, size, widths[name], by_matmul=fc_by_matmul)
        if dropout:
            x = tf.nn.dropout(x, rate=1 - keep_prob)
    layers = [tf.identity(pools[2], name=names.LAYER3), tf.identity(pools[3], name=names.LAYER4),
              tf.identity(x, name=names.LAYER7)]
    # By variable name: on a second device, a mirrored variable's op is that device's copy.
    by_name = {v.name.rsplit(':', 1)[0]: v for v in tf.global_variables()}
    return layers, {name: (by_name[f'{name}/weights'], by_name[f'{name}/biases'])
                    for name in widths}
