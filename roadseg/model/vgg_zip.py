"""vgg.zip's weights in the project's own VGG16 (vgg16.py), proven equal to the SavedModel.

The widely used `vgg.zip` was made outside this project, so its variables are matched to
VGG16's 15 layers by name where the names are known (`conv1_1/filter`, `conv1_1/biases`,
..., `fc6/weights`, as a public listing of the file shows; or this project's own
`conv1_1/weights`), and otherwise by the order in which its graph creates them and their
shapes. Then the load is proven: on a fixed probe image, the rebuilt network's layer 3, 4
and 7 outputs must equal the SavedModel's own to a relative 1e-4. A file that fails either
step (an unknown variant) raises `VggZipMismatch` saying what differs; fcnvgg.py then falls
back to importing the SavedModel's graph as it is.
"""
import os

import numpy as np
import tensorflow.compat.v1 as tf
from tensorflow.core.protobuf import saved_model_pb2

from roadseg.model import tensor_names as names
from roadseg.model.graph_check import read_proto, trusted_metagraph
from roadseg.model import vgg16
from roadseg.model.weight_files import assign_weights

TAG = 'vgg16'
VARIABLE_OPS = ('VariableV2', 'VarHandleOp', 'Variable')
KERNEL_NAMES = ('filter', 'weights', 'kernel', 'W')
BIAS_NAMES = ('biases', 'bias', 'b')
PROBE_SHAPE = (1, 96, 128, 3)    # height and width multiples of 32, fc6 sees 3x4 pixels
TOLERANCE = 1e-4


class VggZipMismatch(Exception):
    """The SavedModel does not load into vgg16.py's network; the message says what differs."""


def read_arrays(model_dir):
    """Return {VGG16 layer: (kernel, bias)} read from the SavedModel's variables, matched by
    name where the names are known and by graph order and shape otherwise."""
    reader = tf.train.load_checkpoint(os.path.join(model_dir, 'variables', 'variables'))
    stored = reader.get_variable_to_shape_map()
    ordered = [name for name in variables_in_graph_order(model_dir) if name in stored]
    pairs = match_by_name(stored) or match_by_order(ordered, stored)
    arrays = {layer: tuple(reader.get_tensor(name).astype(np.float32) for name in pair)
              for layer, pair in pairs.items()}
    return as_convolutions(arrays)


def vgg16_metagraph(model_dir):
    """Return the metagraph tagged `vgg16` of the SavedModel in `model_dir`, read as data."""
    saved_model = read_proto(os.path.join(model_dir, 'saved_model.pb'),
                             saved_model_pb2.SavedModel(), 'a SavedModel')
    graphs = [m for m in saved_model.meta_graphs if TAG in m.meta_info_def.tags]
    if not graphs:
        raise VggZipMismatch(f'its SavedModel has no graph tagged {TAG!r}')
    return graphs[0]


def variables_in_graph_order(model_dir):
    """Return the variable names of the SavedModel's `vgg16` graph, in creation order."""
    return [node.name for node in vgg16_metagraph(model_dir).graph_def.node
            if node.op in VARIABLE_OPS]


def load_trusted_savedmodel(session, model_dir):
    """Import the SavedModel's `vgg16` graph into the session's graph once its ops have
    passed graph_check, and restore its variables with a saver built by code (what
    `tf.saved_model.loader.load` does, without running any op of the file's own saver)."""
    path = os.path.join(model_dir, 'saved_model.pb')
    metagraph = trusted_metagraph(vgg16_metagraph(model_dir), path)
    with session.graph.as_default():
        saver = tf.train.import_meta_graph(metagraph, clear_devices=True)
        saver.restore(session, os.path.join(model_dir, 'variables', 'variables'))


def match_by_name(stored):
    """Return {layer: (kernel name, bias name)} when every layer's names are known, else None."""
    pairs = {}
    for layer in vgg16.LAYER_NAMES:
        kernel = next((f'{layer}/{n}' for n in KERNEL_NAMES if f'{layer}/{n}' in stored), None)
        bias = next((f'{layer}/{n}' for n in BIAS_NAMES if f'{layer}/{n}' in stored), None)
        if kernel is None or bias is None:
            return None
        pairs[layer] = (kernel, bias)
    return pairs


def match_by_order(ordered, stored):
    """Return {layer: (kernel name, bias name)}: the first 15 kernels (more than one
    dimension) in graph order, each with the next bias (one dimension) of its width."""
    kernels = [name for name in ordered if len(stored[name]) > 1]
    if len(kernels) < len(vgg16.LAYER_NAMES):
        raise VggZipMismatch(f'it holds {len(kernels)} weight tensors, VGG16 has '
                             f'{len(vgg16.LAYER_NAMES)}')
    pairs, used = {}, set()
    for layer, kernel in zip(vgg16.LAYER_NAMES, kernels):
        width = stored[kernel][-1]
        after = ordered[ordered.index(kernel) + 1:]
        bias = next((name for name in after if name not in used
                     and list(stored[name]) == [width]), None)
        if bias is None:
            raise VggZipMismatch(f'no bias of {width} values follows the weights {kernel} '
                                 f'({layer})')
        used.add(bias)
        pairs[layer] = (kernel, bias)
    return pairs


def as_convolutions(arrays):
    """Return the arrays with fc6 and fc7 as 7x7 and 1x1 kernels, after checking that every
    layer's shape fits VGG16 (3x3 convolutions, each taking the previous one's channels)."""
    channels = 3
    for layer in vgg16.LAYER_NAMES:
        kernel, bias = arrays[layer]
        size = {'fc6': vgg16.FC6_SIZE, 'fc7': 1}.get(layer, 3)
        if kernel.ndim == 2 and kernel.shape[0] == size * size * channels:
            kernel = kernel.reshape(size, size, channels, kernel.shape[1])
        expected = (size, size, channels)
        if kernel.shape[:3] != expected or bias.shape != kernel.shape[-1:]:
            raise VggZipMismatch(f'{layer} has weights {list(kernel.shape)} and biases '
                                 f'{list(bias.shape)}; VGG16 needs '
                                 f'[{size}, {size}, {channels}, N] and [N]')
        arrays[layer] = (kernel, bias)
        channels = kernel.shape[-1]
    return arrays


def probe_image():
    """Return the fixed probe image: seeded noise, BGR 0..255."""
    return np.random.RandomState(16).uniform(0, 255, PROBE_SHAPE).astype(np.float32)


def savedmodel_outputs(model_dir, image):
    """Return the SavedModel's own layer 3, 4 and 7 outputs for `image` (keep_prob 1)."""
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        load_trusted_savedmodel(session, model_dir)
        tensors = [names.tensor(graph, n) for n in (names.LAYER3, names.LAYER4, names.LAYER7)]
        return session.run(tensors, {names.tensor(graph, names.IMAGE_INPUT): image,
                                     names.tensor(graph, names.KEEP_PROB): 1.0})


def rebuilt_outputs(arrays, image):
    """Return vgg16.py's layer 3, 4 and 7 outputs for `image` with `arrays` loaded."""
    widths = {layer: kernel.shape[-1] for layer, (kernel, _) in arrays.items()}
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        layers, variables = vgg16.build_vgg16(widths)
        assign_weights(session, variables, arrays)
        return session.run(layers, {names.tensor(graph, names.IMAGE_INPUT): image})


def prove_load(model_dir, arrays):
    """Raise `VggZipMismatch` unless the rebuilt network's outputs equal the SavedModel's."""
    image = probe_image()
    expected = savedmodel_outputs(model_dir, image)
    got = rebuilt_outputs(arrays, image)
    for layer, want, have in zip((names.LAYER3, names.LAYER4, names.LAYER7), expected, got):
        if want.shape != have.shape:
            raise VggZipMismatch(f'{layer} has shape {list(have.shape)} rebuilt, '
                                 f'{list(want.shape)} in the SavedModel')
        error = float(np.abs(want - have).max() / max(float(np.abs(want).max()), 1e-12))
        if not error < TOLERANCE:
            raise VggZipMismatch(f'{layer} differs from the SavedModel\'s own output by a '
                                 f'relative {error:.2g} (allowed {TOLERANCE:g})')


def load_arrays(model_dir):
    """Return vgg.zip's {layer: (kernel, bias)}, proven to reproduce the SavedModel."""
    try:
        arrays = read_arrays(model_dir)
    except (KeyError, ValueError, tf.errors.OpError) as error:
        raise VggZipMismatch(f'its variables cannot be read ({error})') from None
    prove_load(model_dir, arrays)
    return arrays
