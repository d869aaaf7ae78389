"""What the model tests share: narrow VGG16 weight files in the layouts of the real ones,
and a fixed batch to train on.

`write_vgg_zip` makes a `vgg.zip` like the widely used one (a SavedModel with tag `vgg16`
under `vgg/`); `write_keras_h5` makes a legacy Keras HDF5 weights file like
`vgg16_weights_tf_dim_ordering_tf_kernels.h5`.
"""
import os
import zipfile

import h5py
import numpy as np
import tensorflow.compat.v1 as tf

from fcnvgg import initialize_uninitialized_variables
from roadseg.model import vgg16, weight_files
from roadseg.model.loss import masked_cross_entropy
from roadseg.train.optimizers import training_step

WIDTH = 1 / 32   # conv widths 2..16, fc6/fc7 128 units
NUM_CLASSES = 3
BATCH, HEIGHT, IMAGE_WIDTH = 2, 64, 96


def fixed_batch(seed=0):
    """Return one batch of images and one-hot labels: three colour bands, some don't-care."""
    rng = np.random.RandomState(seed)
    band = np.minimum(np.arange(HEIGHT) * NUM_CLASSES // HEIGHT, NUM_CLASSES - 1)
    classes = np.broadcast_to(band[None, :, None], [BATCH, HEIGHT, IMAGE_WIDTH])
    colours = np.array([[200, 60, 60], [60, 200, 60], [60, 60, 200]], np.float32)
    images = colours[classes] + rng.normal(0, 20, [BATCH, HEIGHT, IMAGE_WIDTH, 3])
    labels = np.eye(NUM_CLASSES, dtype=np.float32)[classes]
    labels[:, :, :20] = 0          # a don't-care band
    return images.astype(np.float32), labels


# VGG16's layers and their channels, written out here so that the test-written SavedModel
# owes nothing to the project's own network code.
REFERENCE_LAYERS = [('conv1_1', 64), ('conv1_2', 64), ('conv2_1', 128), ('conv2_2', 128),
                    ('conv3_1', 256), ('conv3_2', 256), ('conv3_3', 256), ('conv4_1', 512),
                    ('conv4_2', 512), ('conv4_3', 512), ('conv5_1', 512), ('conv5_2', 512),
                    ('conv5_3', 512), ('fc6', 4096), ('fc7', 4096)]
POOLED_AFTER = ('conv1_2', 'conv2_2', 'conv3_3', 'conv4_3', 'conv5_3')
MEAN_BGR = (103.939, 116.779, 123.68)
# How the variables are named: as a public listing of the real vgg.zip shows, as this
# project names them, or not at all (Variable, Variable_1, ..., Variable_10, ...).
NAMINGS = {'listing': ('filter', 'biases', 'weights'), 'project': ('weights', 'biases', 'weights'),
           'anonymous': None}


def reference_arrays(width=WIDTH, seed=0, conv1_size=3):
    """Return {layer: (kernel, bias)} of a narrow VGG16 with He-scaled random values.

    `conv1_size` other than 3 makes a file that does not fit VGG16.
    """
    rng = np.random.RandomState(seed)
    arrays, channels = {}, 3
    for layer, full in REFERENCE_LAYERS:
        size = {'fc6': 7, 'fc7': 1, 'conv1_1': conv1_size}.get(layer, 3)
        units = max(1, int(round(full * width)))
        scale = np.sqrt(2.0 / (size * size * channels)) / (64.0 if layer == 'conv1_1' else 1)
        arrays[layer] = (rng.normal(0, scale, [size, size, channels, units]).astype(np.float32),
                         rng.normal(0, 0.1, [units]).astype(np.float32))
        channels = units
    return arrays


def build_reference_vgg16(arrays, naming, payload=None):
    """Build VGG16 the plain way (convolutions for fc6 and fc7) with `arrays` as variables
    named by `naming`; creates image_input, keep_prob and layer3/4/7_out. `payload(x)`, for
    the tests of hostile files, returns what layer7_out is made of instead of x."""
    image = tf.placeholder(tf.float32, [None, None, None, 3], name='image_input')
    keep_prob = tf.placeholder_with_default(1.0, [], name='keep_prob')
    x, pools = image - tf.constant(MEAN_BGR), []
    for layer, _ in REFERENCE_LAYERS:
        kernel, bias = arrays[layer]
        if NAMINGS[naming] is None:
            weights, biases = tf.Variable(kernel), tf.Variable(bias)
        else:
            kernel_name, bias_name, fc_name = NAMINGS[naming]
            with tf.variable_scope(layer):
                weights = tf.Variable(kernel, name=fc_name if layer.startswith('fc')
                                      else kernel_name)
                biases = tf.Variable(bias, name=bias_name)
        x = tf.nn.relu(tf.nn.conv2d(x, weights, 1, 'SAME') + biases)
        if layer.startswith('fc'):
            x = tf.nn.dropout(x, rate=1 - keep_prob)
        if layer in POOLED_AFTER:
            x = tf.nn.max_pool2d(x, 2, 2, 'SAME')
            pools.append(x)
    tf.identity(pools[2], name='layer3_out')
    tf.identity(pools[3], name='layer4_out')
    tf.identity(payload(x) if payload else x, name='layer7_out')


def write_vgg_zip(directory, width=WIDTH, naming='listing', arrays=None, payload=None):
    """Write `directory/vgg.zip` holding a narrow VGG16 SavedModel in the layout of the real
    one (tag vgg16, under vgg/), built by `build_reference_vgg16`; return (archive path,
    {project variable name: value}). The SavedModel itself stays in `directory/export/vgg`."""
    arrays = arrays or reference_arrays(width)
    export_dir = os.path.join(directory, 'export', 'vgg')
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        build_reference_vgg16(arrays, naming, payload)
        session.run(tf.global_variables_initializer())
        builder = tf.saved_model.Builder(export_dir)
        builder.add_meta_graph_and_variables(session, ['vgg16'])
        builder.save()
    archive = os.path.join(directory, 'vgg.zip')
    with zipfile.ZipFile(archive, 'w') as zipped:
        for member in weight_files.VGG_ZIP_MEMBERS:
            zipped.write(os.path.join(directory, 'export', member), member)
    values = {}
    for layer, (kernel, bias) in arrays.items():
        values[f'{layer}/weights'], values[f'{layer}/biases'] = kernel, bias
    return archive, values


def keras_arrays(width=WIDTH, fc_units=24, seed=0):
    """Return {Keras layer name: (kernel, bias)} of a narrow VGG16 with random values."""
    rng = np.random.RandomState(seed)
    arrays, in_channels = {}, 3
    for b, (n, channels) in enumerate(zip(vgg16.VGG16_BLOCKS, vgg16.VGG16_CHANNELS), 1):
        out_channels = max(1, int(round(channels * width)))
        for i in range(1, n + 1):
            arrays[f'block{b}_conv{i}'] = (rng.normal(0, 0.1, [3, 3, in_channels, out_channels]),
                                           rng.normal(0, 0.1, [out_channels]))
            in_channels = out_channels
    arrays['fc1'] = (rng.normal(0, 0.01, [7 * 7 * in_channels, fc_units]),
                     rng.normal(0, 0.1, [fc_units]))
    arrays['fc2'] = (rng.normal(0, 0.1, [fc_units, fc_units]), rng.normal(0, 0.1, [fc_units]))
    arrays['predictions'] = (rng.normal(0, 0.1, [fc_units, 10]), rng.normal(0, 0.1, [10]))
    return {name: tuple(a.astype(np.float32) for a in pair) for name, pair in arrays.items()}


def write_keras_h5(path, arrays):
    """Write `arrays` in Keras' legacy HDF5 weights layout, with old-style dataset names.

    The dataset names (`<layer>_W_1:0`, `<layer>_b_1:0`) differ from today's
    `kernel:0`/`bias:0`, so a reader that guesses names instead of following the
    `weight_names` attribute fails.
    """
    layer_names = ['input_1'] + list(arrays)
    with h5py.File(path, 'w') as h5:
        h5.attrs['layer_names'] = [n.encode() for n in layer_names]
        h5.attrs['keras_version'] = b'2.2.4'
        h5.create_group('input_1').attrs['weight_names'] = []
        for name, (kernel, bias) in arrays.items():
            group = h5.create_group(name)
            names = [f'{name}/{name}_W_1:0', f'{name}/{name}_b_1:0']
            group.attrs['weight_names'] = [n.encode() for n in names]
            group[names[0]] = kernel
            group[names[1]] = bias
    return path


def optimizer_step(session, model, labels, learning_rate=1e-4, loss_scale=False):
    """Return (train op, loss): Adam on the masked cross-entropy of `model` against `labels`,
    as the trainer builds it, with the optimizer's variables initialised."""
    with session.graph.as_default():
        loss = masked_cross_entropy(model.logits, labels)
        train_op = training_step(loss, learning_rate, loss_scale=loss_scale)
        initialize_uninitialized_variables(session)
    return train_op, loss
