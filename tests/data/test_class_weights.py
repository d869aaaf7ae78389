"""Median-frequency class weights (class_weights.py), the weighted loss, and main.py
recording them once."""
import json
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from tensorflow.core.protobuf import meta_graph_pb2

from roadseg.data.class_weights import class_pixel_counts, median_frequency_weights
from roadseg.model.loss import masked_cross_entropy
from scripts import TINY, last_line, run_script, write_tiny_synthetic


def test_median_frequency_balancing_by_hand():
    labels = np.zeros((2, 2, 5, 3), np.float32)     # two images of 10 pixels, 3 classes
    labels[0, :, :4, 0] = 1          # image 0: 8 pixels of class 0, 2 of class 1
    labels[0, :, 4:, 1] = 1
    labels[1, :, :, 0] = 1           # image 1: 9 of class 0, 1 don't care
    labels[1, 0, 0] = 0
    pixels, image_pixels = class_pixel_counts([labels[:1], labels[1:]], 3)
    np.testing.assert_array_equal(pixels, [17, 2, 0])
    np.testing.assert_array_equal(image_pixels, [19, 10, 0])
    weights = median_frequency_weights(pixels, image_pixels)
    frequencies = np.array([17 / 19, 2 / 10])
    median = np.median(frequencies)
    np.testing.assert_allclose(weights, [median / frequencies[0], median / frequencies[1], 1])
    assert weights[1] > 1 > weights[0]               # the rare class weighs more


def test_weighted_loss_is_the_weighted_mean_over_cared_pixels():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(1, 2, 3, 2)).astype(np.float32)
    labels = np.eye(2, dtype=np.float32)[rng.integers(0, 2, (1, 2, 3))]
    labels[0, 0, 0] = 0                              # don't care
    weights = [0.5, 2.0]
    with tf.Graph().as_default(), tf.Session() as session:
        loss = session.run(masked_cross_entropy(tf.constant(logits), tf.constant(labels),
                                                class_weights=weights))
    log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    per_pixel = -(labels * log_softmax).sum(-1)
    pixel_weight = (labels * weights).sum(-1)
    assert loss == pytest.approx((per_pixel * pixel_weight).sum() / pixel_weight.sum(),
                                 rel=1e-5)


def test_main_computes_balanced_weights_once_and_records_the_recipe(tmp_path):
    data_dir = write_tiny_synthetic(tmp_path / 'data')
    run_dir = str(tmp_path / 'run')
    trained = run_script('main.py', *TINY, '--data-dir', data_dir, '--name', run_dir,
                         '--epochs', '1', '--class-weights', 'balanced', '--optimizer', 'sgd',
                         '--momentum', '0.8', '--weight-decay', '1e-4', '--scale-range',
                         '0.75,1.5', '--crop', '64x32', '--photometric', '0.2',
                         '--lr-schedule', 'poly', '--warmup-epochs', '0.5')
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert '[i] class weights (median frequency balancing over 11 training samples): sky' \
        in trained.stdout
    with open(os.path.join(run_dir, 'settings.json')) as handle:
        settings = json.load(handle)
    weights = settings['class_weight_values']
    assert len(weights) == 7 and all(w > 0 for w in weights) and len(set(weights)) > 2
    assert (settings['optimizer'], settings['momentum'], settings['weight_decay']) == \
        ('sgd', 0.8, 1e-4)
    assert (settings['scale_range'], settings['crop'], settings['photometric']) == \
        ([0.75, 1.5], [64, 32], 0.2)
    assert (settings['lr_schedule'], settings['warmup_epochs']) == ('poly', 0.5)
    checkpoint = tf.train.latest_checkpoint(run_dir)
    slots = [name for name, _ in tf.train.list_variables(checkpoint)]
    assert any(name.endswith('/Momentum') for name in slots)      # SGD's state, not Adam's
    assert not any(name.endswith('/Adam') for name in slots)
    assert weights_in_graph(checkpoint + '.meta', weights)      # the loss uses them
    resumed = run_script('main.py', '--name', run_dir, '--resume', '--epochs', '2')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'class weights (median' not in resumed.stdout           # recorded, not recomputed
    with open(os.path.join(run_dir, 'settings.json')) as handle:
        assert json.load(handle)['class_weight_values'] == weights
    switched = run_script('main.py', '--name', run_dir, '--resume', '--epochs', '3',
                          '--optimizer', 'adam')
    assert switched.returncode == 1
    assert last_line(switched.stderr) == (f'[!] {run_dir} trains with sgd; its checkpoints '
                                          'hold no adam state: resume without --optimizer, '
                                          'or start a new run')


def weights_in_graph(metagraph, weights):
    """Return whether the metagraph holds a float constant equal to `weights`."""
    meta = meta_graph_pb2.MetaGraphDef()
    with open(metagraph, 'rb') as handle:
        meta.ParseFromString(handle.read())
    for node in meta.graph_def.node:
        if node.op == 'Const' and node.attr['dtype'].type == tf.float32.as_datatype_enum:
            values = tf.make_ndarray(node.attr['value'].tensor)
            if values.shape == (len(weights),) and np.allclose(values, weights):
                return True
    return False


@pytest.mark.parametrize('flags, message', [
    (['--crop', '60x32'], '--crop has image_size (60, 32)'),
    (['--scale-range', '2,1'], '--scale-range 2.0,1.0'),
    (['--scale-range', 'big'], "argument --scale-range: 'big' is not MIN,MAX"),
    (['--warmup-epochs', '9'], '--warmup-epochs must be between 0 and --epochs (2)'),
    (['--weight-decay', '-1'], '--weight-decay must be in [0, 1)'),
])
def test_bad_training_recipes_stop_before_anything_is_written(tmp_path, flags, message):
    run_dir = tmp_path / 'run'
    result = run_script('main.py', *TINY, '--data-dir', str(tmp_path / 'data'), '--name',
                        str(run_dir), '--epochs', '2', *flags)
    assert result.returncode != 0
    assert message in last_line(result.stderr) and last_line(result.stderr).startswith('[!]')
    assert 'Traceback' not in result.stderr and not run_dir.exists()
