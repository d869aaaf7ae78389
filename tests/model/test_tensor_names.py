"""The graph's tensor names (tensor_names.py) in a freshly built training graph, in the same
graph restored from its checkpoint's metagraph, and in checkpoints of older runs."""
import os

import pytest
import tensorflow.compat.v1 as tf

from conftest import ROOT
from fcnvgg import FCNVGG
from roadseg.model import tensor_names as names
from roadseg.train.run_settings import RunSettings
from roadseg.train.trainer import build_trainer

LEGACY_RUNS = os.path.join(ROOT, 'tests', 'legacy', 'runs_6d7777b')
MODEL_NAMES = names.BACKBONE + names.HEAD
TRAINING_NAMES = names.TRAINING + (names.SET_EPOCHS_DONE,)


def op_names(graph):
    """Return the names of every op in `graph`."""
    return {op.name for op in graph.get_operations()}


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """A checkpoint of a freshly built one-device training graph; (prefix, op names)."""
    settings = RunSettings(backbone='scratch', vgg_width=1 / 32, num_classes=3)
    prefix = str(tmp_path_factory.mktemp('names') / 'model')
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        trainer = build_trainer(session, settings, tf.distribute.get_strategy())
        assert trainer.images is trainer.model.image_input   # one device: fed directly
        built = op_names(graph)
        tf.train.Saver().save(session, prefix)
    return prefix, built


def test_a_built_graph_has_every_name(checkpoint):
    _, built = checkpoint
    missing = [name for name in MODEL_NAMES + TRAINING_NAMES if name not in built]
    assert not missing
    assert names.EPOCHS_DONE_VARIABLE in built
    assert not set(names.REPLICATED_TRAINING) & built   # only in several-device graphs


def test_a_restored_checkpoint_has_every_name(checkpoint):
    prefix, _ = checkpoint
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        model = FCNVGG(session)
        model.build_from_metagraph(prefix + '.meta', prefix)
        restored = op_names(graph)
        assert model.classes is names.tensor(graph, names.CLASSES)
        assert model.num_classes == 3
    assert not [name for name in MODEL_NAMES + TRAINING_NAMES if name not in restored]


@pytest.mark.parametrize('kind', ['scratch', 'vggzip'])
def test_older_runs_use_the_same_names(kind):
    prefix = os.path.join(LEGACY_RUNS, kind, 'model-12')
    with tf.Graph().as_default() as graph:
        tf.train.import_meta_graph(prefix + '.meta', clear_devices=True)
        restored = op_names(graph)
    assert not [name for name in MODEL_NAMES + TRAINING_NAMES if name not in restored]
    assert tf.train.load_variable(prefix, names.EPOCHS_DONE_VARIABLE) == 6
