"""bfloat16 copies of a restored model's weights, for inference under the bf16 rewrite.

Without them, the oneDNN bf16 rewrite casts every fp32 weight to bf16 on every run: for the
full VGG16, 134 M values, about a sixth of a batch-1 run.
"""
import tensorflow.compat.v1 as tf

# Ops whose fp32 weight inputs the bf16 rewrite casts on every run (Reshape: fc6's matrix;
# Pad: an upsampling kernel given a zero channel, upscale.py, on its way to the convolution).
WEIGHT_READERS = ('Conv2D', 'Conv2DBackpropInput', 'MatMul', 'Reshape', 'Pad')


def bf16_weight_copies(graph_def):
    """Return ([(bf16 copy, variable name)], input map) for a graph about to be imported.

    Every read of a float32 resource variable that feeds a forward convolution or matrix
    product (not a gradient) is mapped to a bfloat16 copy of the variable, cast back to
    float32. The bf16 rewrite then finds a bf16 -> fp32 -> bf16 round trip, which it drops,
    so the copies are used as they are. The copies start empty: `fill_copies` after restoring.
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


def fill_copies(session, copies):
    """Set each bf16 copy from its restored fp32 variable, once."""
    graph = session.graph
    session.run([copy.assign(tf.cast(tf.raw_ops.ReadVariableOp(
        resource=graph.get_tensor_by_name(f'{variable}:0'), dtype=tf.float32), tf.bfloat16))
        for copy, variable in copies])
