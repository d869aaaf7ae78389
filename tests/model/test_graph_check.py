"""graph_check.py: what a graph read from a file may hold before it runs."""
import glob
import os

import pytest
import tensorflow.compat.v1 as tf

import fcnvgg
from conftest import ROOT
from roadseg.core.errors import UserError
from roadseg.model import graph_check
from roadseg.train import trainer
from roadseg.train.optimizers import Optimizer

LEGACY_METAGRAPHS = glob.glob(os.path.join(ROOT, 'tests', 'legacy', '*', '*', '*.meta'))


def training_metagraph(backbone, optimizer, loss_scale, class_weights):
    """Return the metagraph of the project's training graph, with its saver, as a run's
    checkpoint holds it."""
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        strategy = tf.distribute.get_strategy()
        with strategy.scope():
            trainer.build_training_graph(session, 3, fcnvgg.Backbone(backbone, width=1 / 32),
                                         1e-3, loss_scale, strategy, optimizer, class_weights)
        tf.train.Saver()
        return tf.train.export_meta_graph()


@pytest.mark.parametrize('backbone, optimizer, loss_scale, class_weights', [
    ('scratch', Optimizer(), False, None),
    ('scratch', Optimizer('sgd', 0.9, 1e-4), True, [1.0, 2.0, 0.5]),
    ('scratch-bn', Optimizer('adam', 0.9, 1e-4), True, [1.0, 2.0, 0.5]),
    ('scratch-bn', Optimizer('sgd', 0.9, 0.0), False, None),
])
def test_every_training_graph_of_the_project_passes(backbone, optimizer, loss_scale,
                                                    class_weights):
    metagraph = training_metagraph(backbone, optimizer, loss_scale, class_weights)
    ops = {node.op for node in metagraph.graph_def.node}
    assert {'SaveV2', 'RestoreV2'} <= ops                  # the saver is there...
    trusted = graph_check.trusted_metagraph(metagraph, 'run.meta')
    kept = {node.op for node in trusted.graph_def.node}
    assert not {'SaveV2', 'RestoreV2', 'MergeV2Checkpoints'} & kept   # ...and cut out
    assert not trusted.HasField('saver_def')
    assert len(trusted.graph_def.node) > 100


@pytest.mark.parametrize('path', LEGACY_METAGRAPHS)
def test_the_legacy_runs_pass(path):
    assert len(LEGACY_METAGRAPHS) == 2
    graph_check.read_trusted_metagraph(path)


def graph_with(op_builder):
    """Return the GraphDef of a graph holding what `op_builder()` makes."""
    graph = tf.Graph()
    with graph.as_default():
        op_builder()
    return graph.as_graph_def()


@pytest.mark.parametrize('op, builder', [
    ('WriteFile', lambda: tf.io.write_file('x', 'y')),
    ('ReadFile', lambda: tf.io.read_file('x')),
    ('MatchingFiles', lambda: tf.io.matching_files('*')),
    ('PrintV2', lambda: tf.raw_ops.PrintV2(input=tf.constant('x'), output_stream='file:///tmp/x')),
    ('PyFunc', lambda: tf.py_func(lambda: 0, [], tf.int64)),
])
def test_ops_that_touch_the_machine_are_named_and_refused(op, builder):
    with pytest.raises(UserError, match=f'file.pb holds a {op} op'):
        graph_check.check_ops(graph_with(builder), 'file.pb')


def test_an_op_hidden_in_a_function_body_is_found():
    graph_def = graph_with(lambda: tf.constant(1.0))
    function = graph_def.library.function.add()
    function.signature.name = 'innocent'
    node = function.node_def.add()
    node.name, node.op = 'write', 'WriteFile'
    with pytest.raises(UserError, match='holds a WriteFile op .node write in function '
                                        'innocent'):
        graph_check.check_ops(graph_def, 'file.pb')


def test_a_node_that_depends_on_the_saver_is_refused():
    graph = tf.Graph()
    with graph.as_default():
        tf.Variable(1.0, name='v')
        tf.train.Saver()
        tf.identity(tf.constant(2.0), name='classes')
    graph_def = graph.as_graph_def()
    next(n for n in graph_def.node if n.name == 'classes').input.append('^save/SaveV2')
    with pytest.raises(UserError, match='node classes .Identity. depends on save/SaveV2'):
        graph_check.without_saver(graph_def, 'run.meta')


def test_a_damaged_metagraph_is_one_line(tmp_path):
    path = tmp_path / 'model-1.meta'
    path.write_bytes(b'\x0a\xff\xff garbage')
    with pytest.raises(UserError, match='is not a TensorFlow metagraph'):
        graph_check.read_trusted_metagraph(str(path))
