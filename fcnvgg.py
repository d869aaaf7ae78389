"""FCN-8s on a VGG16 backbone (Long, Shelhamer and Darrell), in TF1 graph style.

The backbone comes from one of three providers that expose the same tensors
(`image_input:0`, `keep_prob:0`, `layer3_out:0`, `layer4_out:0`, `layer7_out:0`):

* `savedmodel`: the SavedModel of the widely used `vgg.zip` (tag `vgg16`);
* `keras`: Keras' ImageNet weights `vgg16_weights_tf_dim_ordering_tf_kernels.h5`, loaded
  into VGG16 built here, with fc1 and fc2 turned into the convolutions fc6 and fc7;
* `scratch`: the same VGG16 with He initialisation and an optional width multiplier.

The FCN-8s head puts 1x1 class scores on layers 3, 4 and 7, upsamples each to full size
with a bilinear-initialised transposed convolution and sums them as l3 + 2*l4 + 4*l7.
"""
import os

import numpy as np
import tensorflow.compat.v1 as tf

import download
import utils
from upscale import upsample

BACKBONES = ('savedmodel', 'keras', 'scratch')
VGG_MEAN_BGR = (103.939, 116.779, 123.68)   # Caffe's ImageNet means, in BGR order
VGG16_BLOCKS = (2, 2, 3, 3, 3)              # convolutions per block
VGG16_CHANNELS = (64, 128, 256, 512, 512)   # channels of each block
FC_UNITS = 4096
FC6_SIZE = 7
PIXEL_STD = 64.0   # typical spread of mean-subtracted 0..255 pixels, for conv1_1's init

VGG_ZIP_URL = 'https://s3-us-west-1.amazonaws.com/udacity-selfdrivingcar/vgg.zip'
VGG_ZIP_MEMBERS = ('vgg/saved_model.pb', 'vgg/variables/variables.index',
                   'vgg/variables/variables.data-00000-of-00001')
KERAS_H5_NAME = 'vgg16_weights_tf_dim_ordering_tf_kernels.h5'
KERAS_H5_URL = ('https://storage.googleapis.com/tensorflow/keras-applications/vgg16/'
                + KERAS_H5_NAME)
KERAS_LAYERS = {f'block{b}_conv{i}': f'conv{b}_{i}'
                for b, n in enumerate(VGG16_BLOCKS, 1) for i in range(1, n + 1)}
KERAS_LAYERS.update(fc1='fc6', fc2='fc7')
OTHER_PROVIDERS = ('--vgg-dir DIR holding vgg.zip (the SavedModel), --vgg-weights '
                   f'{KERAS_H5_NAME} (Keras ImageNet weights) or --vgg-init scratch')


# ---------------------------------------------------------------------------- backbone

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


def conv_relu(x, name, size, channels, input_std=1.0, by_matmul=False):
    """Return relu(conv(x) + b) with He-initialised weights `name/weights`, `name/biases`.

    He initialisation keeps the activations' scale from layer to layer; dividing by
    `input_std` makes that scale about one instead of the raw pixels' tens. `by_matmul`
    computes the convolution as patches times a matrix (same weights, same result).
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
        return tf.nn.relu(tf.nn.bias_add(convolved, biases))


def build_vgg16(widths, image_input=None, keep_prob=None):
    """Build VGG16 in the current graph; return ([layer 3, 4, 7 tensors], {layer: (w, b)}).

    Creates the contract's tensors: `image_input` (BGR 0..255; the Caffe means are
    subtracted here), `keep_prob` (1.0 unless fed), `layer3_out` (pool3, stride 8),
    `layer4_out` (pool4, stride 16) and `layer7_out` (fc7 after dropout, stride 32).
    `image_input` and `keep_prob` may be given as tensors to build on (one device's part
    of a batch); by default they are new placeholders.
    """
    if image_input is None:
        image_input = tf.placeholder(tf.float32, [None, None, None, 3], name='image_input')
    else:
        image_input = tf.identity(image_input, name='image_input')
    if keep_prob is None:
        keep_prob = tf.placeholder_with_default(1.0, [], name='keep_prob')
    else:
        keep_prob = tf.identity(keep_prob, name='keep_prob')
    x = image_input - tf.constant(VGG_MEAN_BGR, tf.float32)
    pools = []
    for b, n in enumerate(VGG16_BLOCKS, 1):
        for i in range(1, n + 1):
            x = conv_relu(x, f'conv{b}_{i}', 3, widths[f'conv{b}_{i}'],
                          PIXEL_STD if (b, i) == (1, 1) else 1.0)
        x = tf.nn.max_pool2d(x, 2, 2, 'SAME', name=f'pool{b}')
        pools.append(x)
    x = tf.nn.dropout(conv_relu(x, 'fc6', FC6_SIZE, widths['fc6'], by_matmul=True),
                      rate=1 - keep_prob)
    x = tf.nn.dropout(conv_relu(x, 'fc7', 1, widths['fc7'], by_matmul=True),
                      rate=1 - keep_prob)
    layers = [tf.identity(pools[2], name='layer3_out'), tf.identity(pools[3], name='layer4_out'),
              tf.identity(x, name='layer7_out')]
    # By variable name: on a second device, a mirrored variable's op is that device's copy.
    by_name = {v.name.rsplit(':', 1)[0]: v for v in tf.global_variables()}
    return layers, {name: (by_name[f'{name}/weights'], by_name[f'{name}/biases'])
                    for name in widths}


def load_weights(session, variables, arrays):
    """Assign {layer: (kernel, bias)} arrays to the matching {layer: (weights, biases)}.

    Through assign ops fed by placeholders, which also set every copy of a variable
    mirrored over several devices, and keep the arrays out of the graph.
    """
    for name, pair in variables.items():
        for variable, value in zip(pair, arrays[name]):
            if tuple(variable.shape.as_list()) != value.shape:
                raise utils.UserError(f'{name}: the file holds shape {value.shape}, the '
                                      f'network needs {tuple(variable.shape.as_list())}')
            fed = tf.placeholder(variable.dtype.base_dtype, value.shape)
            session.run(variable.assign(fed), {fed: value})


# ------------------------------------------------------------ pretrained weight files

def savedmodel_dir(vgg_dir):
    """Return the folder of vgg.zip's SavedModel under `vgg_dir`, fetching it when missing.

    The archive unpacks to `vgg/saved_model.pb` and `vgg/variables/...`; those are the files
    looked for. A missing archive is downloaded to `vgg_dir/vgg.zip`; files already in
    `vgg_dir` are never deleted or overwritten.
    """
    if all(os.path.isfile(os.path.join(vgg_dir, m)) for m in VGG_ZIP_MEMBERS):
        return os.path.join(vgg_dir, 'vgg')
    archive = os.path.join(vgg_dir, 'vgg.zip')
    if os.path.exists(archive):
        problem = download.zip_problem(archive, VGG_ZIP_MEMBERS)
        if problem:
            raise utils.UserError(f'{problem}; replace it with a complete vgg.zip from '
                                  f'{VGG_ZIP_URL}, or use {OTHER_PROVIDERS}')
    else:
        hint = f'Put the archive at {archive} by hand, or use {OTHER_PROVIDERS}.'
        download.download_verified(
            VGG_ZIP_URL, archive, lambda path: download.zip_problem(path, VGG_ZIP_MEMBERS), hint)
    print(f'[i] Extracting {archive}')
    download.extract_missing(archive, VGG_ZIP_MEMBERS, vgg_dir)
    return os.path.join(vgg_dir, 'vgg')


def keras_cache_path():
    """Return where Keras caches its VGG16 ImageNet weights (KERAS_HOME or ~/.keras)."""
    keras_home = os.environ.get('KERAS_HOME') or os.path.join(os.path.expanduser('~'), '.keras')
    return os.path.join(keras_home, 'models', KERAS_H5_NAME)


def read_keras_vgg16(path):
    """Return {paper layer name: (kernel, bias)} from Keras' VGG16 HDF5 weights.

    Each layer's arrays are read in the order of its `weight_names` attribute (kernel, then
    bias). fc1 becomes fc6 [7, 7, C, units]: Keras flattened pool5 in (row, column, channel)
    order, which is exactly a C-order reshape. fc2 becomes the 1x1 convolution fc7.
    """
    import h5py
    arrays = {}
    try:
        with h5py.File(path, 'r') as h5:
            root = h5['model_weights'] if 'model_weights' in h5 else h5
            for keras_name, name in KERAS_LAYERS.items():
                group = root[keras_name]
                names = [n.decode() if isinstance(n, bytes) else n
                         for n in group.attrs['weight_names']]
                arrays[name] = tuple(np.asarray(group[n], np.float32) for n in names[:2])
    except (OSError, KeyError) as error:
        raise utils.UserError(f'{path} is not Keras VGG16 weights in the legacy HDF5 layout '
                              f'({error}); use {OTHER_PROVIDERS}') from None
    fc6, fc7 = arrays['fc6'][0], arrays['fc7'][0]
    channels = arrays['conv5_3'][0].shape[-1]
    arrays['fc6'] = (fc6.reshape(FC6_SIZE, FC6_SIZE, channels, fc6.shape[-1]), arrays['fc6'][1])
    arrays['fc7'] = (fc7.reshape(1, 1, *fc7.shape), arrays['fc7'][1])
    return arrays


def keras_h5_problem(path):
    """Return why `path` is not readable Keras VGG16 weights, or None."""
    try:
        read_keras_vgg16(path)
    except utils.UserError as error:
        return str(error)
    return None


def keras_weights_path(path=None):
    """Return a path to Keras' VGG16 ImageNet weights, downloading them when missing.

    `path` is the user's file; without it, Keras' own cache, so a user who ever ran Keras'
    VGG16 already has them.
    """
    path = path or keras_cache_path()
    if not os.path.exists(path):
        hint = f'Put {KERAS_H5_NAME} at {path} by hand, or use {OTHER_PROVIDERS}.'
        download.download_verified(KERAS_H5_URL, path, keras_h5_problem, hint)
    return path


# ------------------------------------------------------------------------------ FCN-8s

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


def masked_cross_entropy(logits, labels, total_weight=None):
    """Return the mean softmax cross-entropy over pixels whose label row is not all zero.

    An all-zero row is "don't care": it gets zero weight, so it changes neither the loss
    nor any gradient (the fused op's gradient, softmax - label, is not zero for it).
    `total_weight` divides instead of this batch's pixel count: with the whole batch's
    count, the parts of a batch split over devices sum to the whole batch's mean.
    """
    weights = tf.reduce_sum(labels, axis=-1)
    cross_entropy = tf.nn.softmax_cross_entropy_with_logits_v2(
        labels=tf.stop_gradient(labels), logits=logits)
    total = tf.reduce_sum(weights) if total_weight is None else total_weight
    return tf.div_no_nan(tf.reduce_sum(cross_entropy * weights), total, name='loss')


# Ops whose fp32 weight inputs the bf16 rewrite casts on every run (Reshape: fc6's matrix).
WEIGHT_READERS = ('Conv2D', 'Conv2DBackpropInput', 'MatMul', 'Reshape')


def bf16_weight_copies(graph_def):
    """Return ([(bf16 copy, variable name)], input map) for a graph about to be imported.

    Every read of a float32 resource variable that feeds a forward convolution or matrix
    product (not a gradient) is mapped to a bfloat16 copy of the variable, cast back to
    float32. The bf16 rewrite then finds a bf16 -> fp32 -> bf16 round trip, which it drops,
    so the copies are used as they are. The copies start empty: fill them after restoring.
    """
    nodes = {node.name: node for node in graph_def.node}
    readers = {}
    for node in graph_def.node:
        if node.op in WEIGHT_READERS and not node.name.startswith('gradients/'):
            for name in node.input:
                readers.setdefault(name.split(':')[0], []).append(node)
    copies, input_map = [], {}
    for node in graph_def.node:
        variable = nodes.get(node.input[0]) if node.op == 'ReadVariableOp' else None
        if (variable is None or variable.op != 'VarHandleOp' or node.name not in readers
                or node.attr['dtype'].type != tf.float32.as_datatype_enum):
            continue
        shape = [dim.size for dim in variable.attr['shape'].shape.dim]
        copy = tf.Variable(tf.zeros(shape, tf.bfloat16), trainable=False,
                           name=f'bf16_weights/{variable.name}', collections=[])
        copies.append((copy, variable.name))
        input_map[f'{node.name}:0'] = tf.cast(copy, tf.float32)
    return copies, input_map


class FCNVGG:
    """FCN-8s on VGG16 in a TF1 session: build from a backbone, or restore a trained model."""

    def __init__(self, session):
        self.session = session
        self.image_input = self.keep_prob = None
        self.logits = self.softmax = self.classes = None
        self.num_classes = self.widths = None
        self._keras_arrays = self._pretrained = None

    def build_from_vgg(self, vgg_dir, num_classes, backbone='savedmodel', weights_file=None,
                       width=1.0):
        """Build FCN-8s for `num_classes` on a VGG16 backbone and initialise what is new.

        backbone: `savedmodel` (vgg.zip under `vgg_dir`), `keras` (the HDF5 at
        `weights_file`, or Keras' cache) or `scratch` (He initialisation, `width` times
        the channels of VGG16). Pretrained values are loaded, never re-initialised.
        """
        with self.session.graph.as_default():
            self.build_network(vgg_dir, num_classes, backbone, weights_file, width)
            self.load_pretrained()
            utils.initialize_uninitialized_variables(self.session)
            self.bind_tensors()

    def build_network(self, vgg_dir, num_classes, backbone='savedmodel', weights_file=None,
                      width=1.0, widths=None, image_input=None, keep_prob=None):
        """Build the graph of FCN-8s on a backbone; return its logits.

        Called once per device under a distribution strategy, with that device's
        `image_input` and the shared `keep_prob` tensors. Keras weights are read here and
        assigned by `load_pretrained`; `widths` ({layer: channels}) rebuilds a scratch
        VGG16 of a recorded shape. The vgg.zip SavedModel brings its own input and values.
        """
        if backbone not in BACKBONES:
            raise utils.UserError(f'unknown backbone {backbone!r}; use one of {BACKBONES}')
        if backbone == 'savedmodel':
            if image_input is not None:
                raise utils.UserError('the vgg.zip SavedModel backbone runs on one device: '
                                      'for several, use --vgg-weights or --vgg-init scratch')
            tf.saved_model.loader.load(self.session, ['vgg16'], savedmodel_dir(vgg_dir))
            graph = self.session.graph
            layers = [graph.get_tensor_by_name(f'layer{n}_out:0') for n in (3, 4, 7)]
            return self._build_fcn8s(layers, num_classes)
        if backbone == 'keras' and self._keras_arrays is None:
            self._keras_arrays = read_keras_vgg16(keras_weights_path(weights_file))
        if backbone == 'keras':
            widths = {name: kernel.shape[-1] for name, (kernel, _) in self._keras_arrays.items()}
        self.widths = {k: int(v) for k, v in (widths or vgg16_widths(width)).items()}
        layers, variables = build_vgg16(self.widths, image_input, keep_prob)
        if backbone == 'keras' and self._pretrained is None:
            self._pretrained = (variables, self._keras_arrays)
        return self._build_fcn8s(layers, num_classes)

    def load_pretrained(self):
        """Assign the Keras weights that `build_network` read to their variables."""
        if self._pretrained:
            load_weights(self.session, *self._pretrained)
            self._pretrained = None

    def _build_fcn8s(self, layers, num_classes):
        """Add the FCN-8s head on the layer 3, 4 and 7 tensors; return the logits."""
        upscaled = []
        with tf.variable_scope('fcn8s'):
            for layer, name, factor in zip(layers, ('pool3', 'pool4', 'fc7'), (8, 16, 32)):
                scores = class_scores(layer, num_classes, f'score_{name}')
                upscaled.append(upsample(scores, num_classes, factor, f'upscore_{name}'))
        # Long et al.: without weighting the three partial results, learning diverges.
        logits = tf.add_n([upscaled[0], 2.0 * upscaled[1], 4.0 * upscaled[2]], name='logits')
        tf.nn.softmax(logits, name='softmax')
        tf.argmax(logits, axis=-1, output_type=tf.int32, name='classes')
        return logits

    def bind_tensors(self):
        """Look the model's tensors up by their stable names (the first device's, if many)."""
        graph = self.session.graph
        self.image_input = graph.get_tensor_by_name('image_input:0')
        self.keep_prob = graph.get_tensor_by_name('keep_prob:0')
        self.logits = graph.get_tensor_by_name('logits:0')
        self.softmax = graph.get_tensor_by_name('softmax:0')
        self.classes = graph.get_tensor_by_name('classes:0')
        self.num_classes = self.logits.shape.as_list()[-1]

    def build_from_metagraph(self, metagraph_file, checkpoint_file, bf16_weights=False):
        """Restore a trained model from a checkpoint's metagraph and values, for inference.

        `bf16_weights`, for a session with the bf16 rewrite: the network reads its weights
        from bfloat16 copies made once here, instead of the rewrite casting all of them on
        every run (for the full VGG16, 134 M values, about a sixth of a batch-1 run). The
        rewrite rounds the same way, so the class maps are the same; training ops in the
        graph would see the copies, so this is for inference only.
        """
        for path in (metagraph_file, checkpoint_file + '.index'):
            if not os.path.isfile(path):
                raise utils.UserError(f'missing checkpoint file {path}')
        with self.session.graph.as_default():
            metagraph = tf.MetaGraphDef()
            with open(metagraph_file, 'rb') as handle:
                metagraph.ParseFromString(handle.read())
            copies, input_map = bf16_weight_copies(metagraph.graph_def) if bf16_weights \
                else ([], {})
            # A run trained on several devices names them; this session may have one.
            saver = tf.train.import_meta_graph(metagraph, clear_devices=True,
                                               input_map=input_map)
            saver.restore(self.session, checkpoint_file)
            if copies:
                graph = self.session.graph
                self.session.run([copy.assign(tf.cast(tf.raw_ops.ReadVariableOp(
                    resource=graph.get_tensor_by_name(f'{variable}:0'), dtype=tf.float32),
                    tf.bfloat16)) for copy, variable in copies])
            self.bind_tensors()

    def get_optimizer(self, labels, learning_rate=1e-4, loss_scale=False, logits=None,
                      total_weight=None, initialize=True):
        """Return (train op, loss): Adam on the masked softmax cross-entropy against `labels`.

        `labels` is one-hot [B, H, W, num_classes]; all-zero rows are don't-care pixels.
        The train op also advances the global step. `loss_scale` adds dynamic loss scaling,
        which fp16 training needs so that small gradients do not flush to zero. On several
        devices each passes its own `logits` and the whole batch's `total_weight` (see
        `masked_cross_entropy`) and initialises later (`initialize=False`).
        """
        with self.session.graph.as_default():
            loss = masked_cross_entropy(self.logits if logits is None else logits, labels,
                                        total_weight)
            step = tf.train.get_or_create_global_step()
            optimizer = tf.train.AdamOptimizer(learning_rate)
            if loss_scale:
                optimizer = tf.train.experimental.MixedPrecisionLossScaleOptimizer(
                    optimizer, 'dynamic')
            train_op = optimizer.minimize(loss, global_step=step, name='train_op')
            if initialize:
                utils.initialize_uninitialized_variables(self.session)
        return train_op, loss
