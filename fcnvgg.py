"""FCN-8s on a VGG16 backbone (Long, Shelhamer and Darrell), in TF1 graph style.

The backbone's weights come from one of three sources, which all expose the tensors of
tensor_names.BACKBONE:

* `savedmodel`: the SavedModel of the widely used `vgg.zip` (tag `vgg16`), its weights
  loaded into the project's VGG16 (roadseg/model/vgg16.py) once roadseg/model/vgg_zip.py
  has proven that this reproduces the SavedModel's own outputs (else its graph is imported
  as it is, with one `[i]` line);
* `keras`: Keras' ImageNet weights `vgg16_weights_tf_dim_ordering_tf_kernels.h5`, loaded
  into the project's VGG16, with fc1 and fc2 turned into the convolutions fc6 and fc7;
* `scratch`: the project's VGG16 with He initialisation and an optional width multiplier;
* `scratch-bn`: the same with batch normalisation after each of its 13 convolutions.

So all three share one graph, one checkpoint layout, the fast fc6/fc7, the bf16 weight
copies and training on several devices.

The FCN-8s head puts 1x1 class scores on layers 3, 4 and 7, upsamples each to full size
with a bilinear-initialised transposed convolution and sums them as l3 + 2*l4 + 4*l7.
`build_fcn8s` builds all of it, loads what is pretrained and initialises the rest, in one
call; `FCNVGG` wraps a built or restored model's tensors for the scripts.
"""
import os
from dataclasses import dataclass
from typing import Optional

import tensorflow.compat.v1 as tf

from roadseg.core.errors import UserError
from roadseg.model import checkpoints
from roadseg.model import tensor_names as names
from roadseg.model import vgg16, vgg_zip, weight_files
from roadseg.model.bf16_weights import bf16_weight_copies, fill_copies
from upscale import upsample

BACKBONES = ('savedmodel', 'keras', 'scratch', 'scratch-bn')
BATCH_NORMALISED = 'scratch-bn'


@dataclass(frozen=True)
class Backbone:
    """Where the VGG16 backbone's weights come from."""

    kind: str = 'savedmodel'             # one of BACKBONES
    vgg_dir: str = 'vgg'                 # savedmodel: the folder holding vgg.zip
    weights_file: Optional[str] = None   # keras: the HDF5 file; None: Keras' cache
    width: float = 1.0                   # scratch: width multiplier of every layer
    widths: Optional[dict] = None        # scratch: {layer: channels}, to rebuild a run
    import_graph: bool = False           # savedmodel: import its graph as the article does


def initialize_uninitialized_variables(session):
    """Initialise only the global variables that nothing has loaded yet; return them.

    Pretrained weights restored from a SavedModel or assigned from a file stay as they are;
    the global initialiser would overwrite them.
    """
    variables = tf.global_variables()
    if not variables:
        return []
    flags = session.run([tf.is_variable_initialized(v) for v in variables])
    pending = [v for v, done in zip(variables, flags) if not done]
    if pending:
        session.run(tf.variables_initializer(pending))
    return pending


def class_scores(x, num_classes, name):
    """Return 1x1 convolution class scores of `x`: a per-location linear classifier.

    The weights start at zero, as in Long et al.: the first logits are all zero, so the loss
    starts at log(num_classes) instead of at the huge value that random scores on large
    VGG activations give, which would spend the first epoch undoing them.
    """
    with tf.variable_scope(name):
        weights = tf.get_variable('weights', [1, 1, x.shape.as_list()[-1], num_classes],
                                  initializer=tf.zeros_initializer())
        biases = tf.get_variable('biases', [num_classes], initializer=tf.zeros_initializer())
        return tf.nn.bias_add(tf.nn.conv2d(x, weights, 1, 'SAME'), biases)


def fcn8s_head(layers, num_classes):
    """Add the FCN-8s head on the layer 3, 4 and 7 tensors; return the logits.

    Also creates the named softmax and class map (tensor_names.HEAD).
    """
    upscaled = []
    with tf.variable_scope('fcn8s'):
        for layer, name, factor in zip(layers, ('pool3', 'pool4', 'fc7'), (8, 16, 32)):
            scores = class_scores(layer, num_classes, f'score_{name}')
            upscaled.append(upsample(scores, num_classes, factor, f'upscore_{name}'))
    # Long et al.: without weighting the three partial results, learning diverges.
    logits = tf.add_n([upscaled[0], 2.0 * upscaled[1], 4.0 * upscaled[2]], name=names.LOGITS)
    tf.nn.softmax(logits, name=names.SOFTMAX)
    tf.argmax(logits, axis=-1, output_type=tf.int32, name=names.CLASSES)
    return logits


def build_fcn8s(session, num_classes, backbone, replicate=None):
    """Build FCN-8s on `backbone` in the session's graph, ready to run; return
    (what the build returned, {layer: channels} of VGG16 or None for vgg.zip).

    `replicate(build)`, for several devices, calls `build(image_input, keep_prob, training)`
    once per device with that device's tensors; each call returns that device's logits. Without it,
    the model is built once on new placeholders. Then the pretrained weights are loaded and
    every other variable initialised (pretrained values are never re-initialised).
    """
    if backbone.kind not in BACKBONES:
        raise UserError(f'unknown backbone {backbone.kind!r}; use one of {BACKBONES}')
    arrays = None
    if backbone.kind == 'savedmodel':
        model_dir = weight_files.savedmodel_dir(backbone.vgg_dir)
        arrays = None if backbone.import_graph else vgg_zip_arrays(model_dir)
        if arrays is None:
            return _build_on_savedmodel(session, num_classes, model_dir, replicate), None
    elif backbone.kind == 'keras':
        arrays = weight_files.read_keras_vgg16(
            weight_files.keras_weights_path(backbone.weights_file))
    widths = ({name: kernel.shape[-1] for name, (kernel, _) in arrays.items()} if arrays
              else backbone.widths or vgg16.vgg16_widths(backbone.width))
    widths = {name: int(channels) for name, channels in widths.items()}
    variables = {}

    def build(image_input=None, keep_prob=None, training=None):
        """Build VGG16 and the head on these inputs (new placeholders by default)."""
        layers, built = vgg16.build_vgg16(widths, image_input, keep_prob,
                                          batch_norm=backbone.kind == BATCH_NORMALISED,
                                          training=training)
        for name, pair in built.items():   # the first device's are the mirrored variables
            variables.setdefault(name, pair)
        return fcn8s_head(layers, num_classes)
    result = replicate(build) if replicate else build()
    if arrays:
        weight_files.assign_weights(session, variables, arrays)
    initialize_uninitialized_variables(session)
    return result, widths


def vgg_zip_arrays(model_dir):
    """Return vgg.zip's weights for the project's VGG16, or None (with one `[i]` line) when
    they do not reproduce the SavedModel's own outputs."""
    try:
        return vgg_zip.load_arrays(model_dir)
    except vgg_zip.VggZipMismatch as error:
        print(f'[i] {model_dir} does not load into the project\'s VGG16: {error}. Using the '
              'SavedModel\'s own graph instead (one device, without the fast fc6 and fc7)')
        return None


def _build_on_savedmodel(session, num_classes, model_dir, replicate):
    """Import vgg.zip's SavedModel with its values and build the head on it, on one device."""
    def build(image_input=None, keep_prob=None, training=None):
        """Import the SavedModel and build the head on it; it brings its own inputs."""
        if image_input is not None:
            raise UserError(f'the SavedModel in {model_dir} is used as its own graph, which '
                            'runs on one device: for several, use --vgg-weights or '
                            '--vgg-init scratch')
        vgg_zip.load_trusted_savedmodel(session, model_dir)
        graph = session.graph
        layers = [names.tensor(graph, name) for name in (names.LAYER3, names.LAYER4,
                                                         names.LAYER7)]
        return fcn8s_head(layers, num_classes)
    result = replicate(build) if replicate else build()
    initialize_uninitialized_variables(session)
    return result


class FCNVGG:
    """FCN-8s on VGG16 in a TF1 session: build from a backbone, or restore a trained model.

    After either, `image_input`, `keep_prob`, `logits`, `softmax` and `classes` are the
    model's tensors and `num_classes` its class count.
    """

    def __init__(self, session):
        self.session = session
        self.image_input = self.keep_prob = None
        self.logits = self.softmax = self.classes = None
        self.num_classes = self.widths = None

    def build_from_vgg(self, vgg_dir, num_classes, backbone='savedmodel', weights_file=None,
                       width=1.0):
        """Build FCN-8s for `num_classes` on a VGG16 backbone and initialise what is new.

        backbone: `savedmodel` (vgg.zip under `vgg_dir`), `keras` (the HDF5 at
        `weights_file`, or Keras' cache), `scratch` (He initialisation, `width` times
        the channels of VGG16) or `scratch-bn` (the same, batch-normalised). Pretrained
        values are loaded, never re-initialised.
        """
        with self.session.graph.as_default():
            _, self.widths = build_fcn8s(self.session, num_classes,
                                         Backbone(backbone, vgg_dir, weights_file, width))
            self.bind_tensors()

    def bind_tensors(self):
        """Look the model's tensors up by their names (the first device's, if many)."""
        graph = self.session.graph
        self.image_input = names.tensor(graph, names.IMAGE_INPUT)
        self.keep_prob = names.tensor(graph, names.KEEP_PROB)
        self.logits = names.tensor(graph, names.LOGITS)
        self.softmax = names.tensor(graph, names.SOFTMAX)
        self.classes = names.tensor(graph, names.CLASSES)
        self.num_classes = self.logits.shape.as_list()[-1]

    def build_from_metagraph(self, metagraph_file, checkpoint_file, bf16_weights=False):
        """Restore a trained model from a checkpoint's metagraph and values, for inference.

        `bf16_weights`, for a session with the bf16 rewrite: the network reads its weights
        from bfloat16 copies made once here (roadseg/model/bf16_weights.py). The rewrite
        rounds the same way, so the class maps are the same; training ops in the graph would
        see the copies, so this is for inference only.
        """
        for path in (metagraph_file, checkpoint_file + '.index'):
            if not os.path.isfile(path):
                raise UserError(f'missing checkpoint file {path}')
        metagraph = checkpoints.read_metagraph(checkpoint_file)   # before anything runs
        with self.session.graph.as_default(), checkpoints.restoring(checkpoint_file):
            copies, input_map = (bf16_weight_copies(metagraph.graph_def)
                                 if bf16_weights else ([], {}))
            # A run trained on several devices names them; this session may have one. The
            # saver comes from code: the file's own was cut out by the check.
            saver = tf.train.import_meta_graph(metagraph, clear_devices=True,
                                               input_map=input_map)
            saver.restore(self.session, checkpoint_file)
            if copies:
                fill_copies(self.session, copies)
            self.bind_tensors()
