"""The inference graph that the ONNX and TFLite exports are converted from.

A run's checkpoint holds a training graph: dropout driven by a keep_prob tensor (random ops
even at keep_prob 1), and fc6 as image patches times a matrix (`ExtractImagePatches`, which
TFLite lacks). So the graph is built afresh here for inference only, at one fixed input
size: VGG16 with the Caffe mean subtracted inside, fc6 and fc7 as plain convolutions, no
dropout, and the FCN-8s head of fcnvgg.py. The checkpoint's values fill it, matched to the
VGG16 layers as roadseg/model/vgg_zip.py matches a vgg.zip (by name, else by graph order
and shape), so runs on any backbone, the imported vgg.zip graph of older runs included,
export alike.

Then the rebuilt graph is proven: on a probe image, its probabilities must equal those of
the checkpoint's own graph (as infer.py restores it) to PROOF_TOLERANCE; else the export
stops with one line. The result is a frozen GraphDef (variables as constants):

* in: `images`, float32 [B, H, W, 3], BGR 0..255, at the fixed input size;
* out: `probabilities`, float32 [B, H, W, C], the softmax at that size (what the network
  gives infer.py before it resizes them to the photo's size), and `classes`, int32
  [B, H, W], their argmax.
"""
import contextlib
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np
import tensorflow.compat.v1 as tf

from fcnvgg import FCNVGG, fcn8s_head
from roadseg.core.checks import check_image_size
from roadseg.core.errors import UserError
from roadseg.export.exported_model import CLASSES, INPUT, PROBABILITIES
from roadseg.model import checkpoints
from roadseg.model import tensor_names as names
from roadseg.model import vgg16, vgg_zip
from roadseg.model.weight_files import assign_weights

HEAD_SCOPE = 'fcn8s/'
# Probabilities of the rebuilt graph against the checkpoint's own: only the order of
# floating-point sums differs (a convolution instead of patches times a matrix).
PROOF_TOLERANCE = 1e-4


@dataclass(frozen=True)
class FrozenGraph:
    """An inference graph with its weights as constants, ready to convert."""

    graph_def: tf.GraphDef
    input_size: Tuple[int, int]      # (width, height) of `images`
    batch: Optional[int]             # fixed batch size, or None for any
    num_classes: int


def input_size_of(settings, input_size=None):
    """Return the export's (width, height): `input_size` if given, else the run's image
    size; `UserError` unless both are multiples of 32."""
    size = tuple(int(v) for v in (input_size or settings.image_size or ()))
    check_image_size(size, 'the export')
    return size


def checkpoint_arrays(checkpoint):
    """Return ({VGG16 layer: (kernel, bias)}, {head variable name: value}) of a checkpoint.

    The backbone's variables are matched to VGG16's layers as roadseg/model/vgg_zip.py
    matches vgg.zip's: by name where the names are known (this project's `conv1_1/weights`,
    vgg.zip's `conv1_1/filter`), else by the order the checkpoint's graph created them and their
    shapes; fc6 and fc7 become 7x7 and 1x1 kernels.
    """
    with checkpoints.restoring(checkpoint):
        reader = tf.train.load_checkpoint(checkpoint)
        stored = {name: shape for name, shape in reader.get_variable_to_shape_map().items()
                  if not name.startswith(HEAD_SCOPE)}
        head = {name: reader.get_tensor(name)
                for name in reader.get_variable_to_shape_map()
                if name.startswith(HEAD_SCOPE) and '/Adam' not in name}
        try:
            ordered = [name for name in variables_in_graph_order(checkpoint)
                       if name in stored]
            pairs = vgg_zip.match_by_name(stored) or vgg_zip.match_by_order(ordered, stored)
            arrays = vgg_zip.as_convolutions(
                {layer: tuple(reader.get_tensor(name).astype(np.float32) for name in pair)
                 for layer, pair in pairs.items()})
        except vgg_zip.VggZipMismatch as error:
            raise UserError(f'cannot export {checkpoint}: its backbone does not match '
                            f'VGG16 ({error})') from None
        arrays = {layer: fold_batch_norm(reader, layer, *pair) for layer, pair in arrays.items()}
    return arrays, head


def fold_batch_norm(reader, layer, kernel, bias):
    """Return (kernel, bias) of a layer with its batch normalisation (if it has one) folded
    in: at inference it is a per-channel scale and shift, so the exported network is the
    plain VGG16, for every runtime."""
    scope = f'{layer}/{vgg16.BN_SCOPE}'
    if not reader.has_tensor(f'{scope}/gamma'):
        return kernel, bias
    gamma, beta, mean, variance = (reader.get_tensor(f'{scope}/{name}').astype(np.float64)
                                   for name in ('gamma', 'beta', 'moving_mean',
                                                'moving_variance'))
    scale = gamma / np.sqrt(variance + vgg16.BN_EPSILON)
    return ((kernel * scale).astype(np.float32),
            (beta - mean * scale + bias).astype(np.float32))


def variables_in_graph_order(checkpoint):
    """Return the variable names of a checkpoint's metagraph, in creation order."""
    metagraph = tf.MetaGraphDef()
    with open(checkpoint + '.meta', 'rb') as handle:
        metagraph.ParseFromString(handle.read())
    return [node.name for node in metagraph.graph_def.node if node.op in vgg_zip.VARIABLE_OPS]


def build_inference_network(images, widths, num_classes):
    """Build VGG16 and the FCN-8s head for inference on `images` (BGR 0..255); return
    (probabilities, classes, {layer: (weights, biases)} of VGG16).

    vgg16.build_vgg16's layers and names, without dropout, with fc6 and fc7 as plain
    convolutions (the same weights give the same results).
    """
    layers, variables = vgg16.build_vgg16(widths, images, fc_by_matmul=False, dropout=False)
    fcn8s_head(layers, num_classes)
    graph = tf.get_default_graph()
    probabilities = tf.identity(names.tensor(graph, names.SOFTMAX), name=PROBABILITIES)
    # fcn8s_head already names its argmax `classes`, the output's name.
    classes = names.tensor(graph, names.CLASSES)
    return probabilities, classes, variables


def probe_images(input_size, batch):
    """Return a fixed probe batch at (width, height): seeded noise over a smooth gradient,
    BGR 0..255, so that every layer sees structure as well as noise."""
    width, height = input_size
    rng = np.random.RandomState(16)
    ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    base = np.broadcast_to(ramp, (height, width, 3))
    noise = rng.uniform(-60, 60, (batch or 1, height, width, 3)).astype(np.float32)
    return np.clip(base + noise, 0, 255).astype(np.float32)


def checkpoint_probabilities(checkpoint, images):
    """Return the probabilities of the checkpoint's own graph, restored as infer.py does."""
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        model = FCNVGG(session)
        model.build_from_metagraph(checkpoint + '.meta', checkpoint)
        return session.run(model.softmax, {model.image_input: images, model.keep_prob: 1.0})


def frozen_inference_graph(checkpoint, settings, input_size=None, batch=1):
    """Return the `FrozenGraph` of a run's checkpoint at `input_size` (width, height; the
    run's image size by default) for batches of `batch` images (None: any number), proven
    to give the checkpoint's own probabilities (`UserError` otherwise)."""
    input_size = input_size_of(settings, input_size)
    arrays, head = checkpoint_arrays(checkpoint)
    widths = {layer: int(kernel.shape[-1]) for layer, (kernel, _) in arrays.items()}
    width, height = input_size
    probe = probe_images(input_size, batch)
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        images = tf.placeholder(tf.float32, [batch, height, width, 3], name=INPUT)
        probabilities, _, variables = build_inference_network(images, widths,
                                                              settings.num_classes)
        assign_weights(session, variables, arrays)
        assign_head(session, head)
        rebuilt = session.run(probabilities, {images: probe})
        with quiet_deprecations():
            graph_def = tf.graph_util.convert_variables_to_constants(
                session, graph.as_graph_def(), [PROBABILITIES, CLASSES])
    expected = checkpoint_probabilities(checkpoint, probe)
    difference = float(np.abs(rebuilt - expected).max())
    if not difference <= PROOF_TOLERANCE:
        raise UserError(f'cannot export {checkpoint}: the inference graph rebuilt for the '
                        f'export differs from the checkpoint\'s own by {difference:.2g} in '
                        f'probability (allowed {PROOF_TOLERANCE:g})')
    return FrozenGraph(graph_def, input_size, batch, settings.num_classes)


@contextlib.contextmanager
def quiet_deprecations():
    """Within `with`, TensorFlow's Python warnings are not shown: freezing a graph is a TF1
    API, which says so in six lines that tell the user nothing."""
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel('ERROR')
    try:
        yield
    finally:
        logger.setLevel(level)


def assign_head(session, head):
    """Load the FCN-8s head's checkpoint values into the variables of the same names."""
    variables = [v for v in tf.global_variables() if v.op.name.startswith(HEAD_SCOPE)]
    missing = sorted(v.op.name for v in variables if v.op.name not in head)
    if missing:
        raise UserError(f'cannot export: the checkpoint lacks the head variables '
                        f'{", ".join(missing)}')
    for variable in variables:
        value = head[variable.op.name]
        if tuple(variable.shape.as_list()) != value.shape:
            raise UserError(f'cannot export: the checkpoint holds {variable.op.name} of '
                            f'shape {value.shape}, the run\'s settings need '
                            f'{tuple(variable.shape.as_list())}')
        fed = tf.placeholder(variable.dtype.base_dtype, value.shape)
        session.run(variable.assign(fed), {fed: value})
