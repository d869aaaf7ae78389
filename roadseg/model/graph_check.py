"""Graphs read from files are programs: each is checked before anything of it runs.

A run's checkpoint metagraph (`model-<step>.meta`) and vgg.zip's SavedModel come from other
people as often as from this machine. Besides convolutions a graph may hold ops that read
and write files (`WriteFile`, `ReadFile`, `MatchingFiles`, `PrintV2` to a file), run Python
(`PyFunc`) or talk to the network, and a session runs every op that what it is asked for
depends on. So a graph from a file is used only after two steps:

* its saver (the nodes under `save/`, `save_1/`, ...: the only ones of this project's
  graphs that touch files) is cut out, and must be what nothing else depends on; the
  values are then restored by a saver that the code builds, which reads the checkpoint's
  tensors and nothing else;
* every op left, in the graph and in its function library, must be one of ALLOWED_OPS: the
  ops that VGG16, the FCN-8s head, training (Adam, SGD, weight decay, class weights, loss
  scaling, batch normalisation, several devices and machines) and the legacy runs built
  on vgg.zip's own graph are made of (tests/model/test_graph_check.py builds them all).

A graph that fails either is refused with one `[!]` line naming the op, the node and the
file; nothing of it has run.
"""
import re

import tensorflow.compat.v1 as tf

from roadseg.core.errors import UserError

# Node names of the savers tf.train.Saver builds: save/..., save_1/...
SAVER_SCOPE = re.compile(r'^save(_\d+)?/')

ALLOWED_OPS = frozenset({
    # values, shapes and plumbing
    'Const', 'Identity', 'IdentityN', 'NoOp', 'Placeholder', 'PlaceholderWithDefault',
    'Shape', 'ShapeN', 'Size', 'Rank', 'Reshape', 'ExpandDims', 'Squeeze', 'Pack', 'Unpack',
    'ConcatV2', 'Concat', 'Slice', 'StridedSlice', 'StridedSliceGrad', 'Split', 'SplitV',
    'Tile', 'Transpose', 'InvertPermutation', 'Fill', 'ZerosLike', 'OnesLike', 'Range',
    'GatherV2', 'Gather', 'Pad', 'PadV2', 'Cast', 'StopGradient', 'PreventGradient',
    'Snapshot', 'BroadcastTo', 'BroadcastGradientArgs', 'Where', 'Select', 'SelectV2',
    'Assert',
    # arithmetic and reductions
    'Add', 'AddV2', 'AddN', 'Sub', 'Mul', 'Div', 'RealDiv', 'DivNoNan', 'FloorDiv',
    'FloorMod', 'Neg', 'Abs', 'Sign', 'Square', 'Sqrt', 'Rsqrt', 'SqrtGrad', 'RsqrtGrad',
    'Reciprocal', 'ReciprocalGrad', 'Pow', 'Exp', 'Log', 'Floor', 'Maximum', 'Minimum',
    'Sum', 'Mean', 'Prod', 'Max', 'Min', 'ArgMax', 'ArgMin', 'All', 'Any',
    'Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'LogicalAnd',
    'LogicalOr', 'LogicalNot', 'IsFinite', 'UnsortedSegmentSum', 'MatMul', 'BatchMatMulV2',
    # the network, its loss and their gradients
    'Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BiasAdd', 'BiasAddGrad',
    'Relu', 'ReluGrad', 'MaxPool', 'MaxPoolGrad', 'ExtractImagePatches', 'Softmax',
    'LogSoftmax', 'SoftmaxCrossEntropyWithLogits', 'FusedBatchNorm', 'FusedBatchNormV2',
    'FusedBatchNormV3', 'FusedBatchNormGrad', 'FusedBatchNormGradV2', 'FusedBatchNormGradV3',
    'RandomUniform', 'RandomStandardNormal', 'TruncatedNormal',
    # variables and optimizers
    'VariableV2', 'Variable', 'VarHandleOp', 'ReadVariableOp', 'VarIsInitializedOp',
    'IsVariableInitialized', 'Assign', 'AssignAdd', 'AssignSub', 'AssignVariableOp',
    'AssignAddVariableOp', 'AssignSubVariableOp', 'ApplyAdam', 'ResourceApplyAdam',
    'ApplyMomentum', 'ResourceApplyMomentum', 'ResourceApplyKerasMomentum',
    # control flow (tf.cond of batch normalisation's training switch, both versions)
    'If', 'StatelessIf', 'Switch', 'Merge', 'OptionalFromValue', 'OptionalGetValue',
    'OptionalNone', 'OptionalHasValue',
    # gradients summed and initial values broadcast across devices and machines (these
    # reach only the cluster's own workers, which a session outside it does not have)
    'CollectiveReduceV2', 'CollectiveReduce', 'CollectiveBcastSend', 'CollectiveBcastRecv',
    'CollectiveBcastSendV2', 'CollectiveBcastRecvV2', 'CollectiveGather', 'CollectiveGatherV2',
    'NcclAllReduce',
})


class DamagedMetagraph(UserError):
    """A `.meta` file that cannot be read or parsed: damage, not a hostile graph."""


def without_saver(graph_def, path):
    """Return a copy of `graph_def` without its savers' nodes; `UserError` when another node
    depends on one of them (running that node would run the saver's file ops)."""
    kept = tf.GraphDef()
    kept.versions.CopyFrom(graph_def.versions)
    kept.library.CopyFrom(graph_def.library)
    removed = {node.name for node in graph_def.node if SAVER_SCOPE.match(node.name)}
    for node in graph_def.node:
        if node.name in removed:
            continue
        for source in node.input:
            if source.lstrip('^').split(':')[0] in removed:
                raise UserError(f'{path}: node {node.name} ({node.op}) depends on '
                                f'{source.lstrip("^")}, an op of the file\'s checkpoint saver, '
                                'which no graph of this project does: refused before anything '
                                'of the file ran')
        kept.node.add().CopyFrom(node)
    return kept


def check_ops(graph_def, path):
    """Raise `UserError` naming the first op of `graph_def` (or of a function in its
    library) that is not in ALLOWED_OPS."""
    nodes = [(node, '') for node in graph_def.node]
    nodes += [(node, f' in function {function.signature.name}')
              for function in graph_def.library.function for node in function.node_def]
    for node, where in nodes:
        if node.op not in ALLOWED_OPS:
            raise UserError(f'{path} holds a {node.op} op (node {node.name}{where}), which no '
                            'graph of this project has and which could act on this machine: '
                            'refused before anything of the file ran')


def trusted_metagraph(metagraph, path):
    """Return a copy of `metagraph` that is safe to import and run: its saver cut out (a
    saver built by code restores the values), every op checked."""
    trusted = tf.MetaGraphDef()
    trusted.CopyFrom(metagraph)
    trusted.ClearField('saver_def')
    trusted.graph_def.CopyFrom(without_saver(metagraph.graph_def, path))
    check_ops(trusted.graph_def, path)
    return trusted


def read_proto(path, message, what, error=UserError):
    """Parse the file `path` into the protobuf `message` and return it, as data: nothing of
    it runs. An unreadable file, or one that is not `what`, raises `error`."""
    try:
        with open(path, 'rb') as handle:
            message.ParseFromString(handle.read())
    except OSError as problem:
        raise error(f'cannot read {path}: {problem.strerror}') from None
    except Exception as problem:  # protobuf's DecodeError, whose module varies by runtime
        raise error(f'{path} is not {what} ({problem})') from None
    return message


def read_trusted_metagraph(path):
    """Return the checked metagraph of a checkpoint's `.meta` file (see trusted_metagraph);
    an unreadable or damaged file is a `DamagedMetagraph`."""
    metagraph = read_proto(path, tf.MetaGraphDef(), 'a TensorFlow metagraph', DamagedMetagraph)
    return trusted_metagraph(metagraph, path)
