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

import vgg16
import weight_files

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


def write_vgg_zip(directory, width=WIDTH):
    """Write `directory/vgg.zip` holding a narrow VGG16 SavedModel; return its variables."""
    export_dir = os.path.join(directory, 'export', 'vgg')
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        vgg16.build_vgg16(vgg16.vgg16_widths(width))
        session.run(tf.global_variables_initializer())
        values = {v.op.name: session.run(v) for v in tf.global_variables()}
        builder = tf.saved_model.Builder(export_dir)
        builder.add_meta_graph_and_variables(session, ['vgg16'])
        builder.save()
    archive = os.path.join(directory, 'vgg.zip')
    with zipfile.ZipFile(archive, 'w') as zipped:
        for member in weight_files.VGG_ZIP_MEMBERS:
            zipped.write(os.path.join(directory, 'export', member), member)
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
