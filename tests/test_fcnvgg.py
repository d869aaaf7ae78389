"""FCN-8s on VGG16: the three backbone providers, the head, save and restore."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import fcnvgg
from model_fixtures import (BATCH, HEIGHT, IMAGE_WIDTH, NUM_CLASSES, WIDTH, fixed_batch,
                            keras_arrays, optimizer_step, write_keras_h5, write_vgg_zip)
from roadseg.core.errors import UserError
from roadseg.model import weight_files


def pretrained_files(backbone, directory):
    """Write the provider's files; return (build kwargs, {variable name: expected value})."""
    if backbone == 'savedmodel':
        _, values = write_vgg_zip(str(directory))
        return {'vgg_dir': str(directory)}, values
    if backbone == 'keras':
        arrays = keras_arrays()
        path = write_keras_h5(str(directory / 'weights.h5'), arrays)
        expected = {}
        for keras_name, name in weight_files.KERAS_LAYERS.items():
            kernel, bias = arrays[keras_name]
            expected[f'{name}/biases'] = bias
            if name == 'conv1_1':
                expected[f'{name}/weights'] = kernel
        return {'vgg_dir': None, 'weights_file': path}, expected
    return {'vgg_dir': None, 'width': WIDTH}, {}


@pytest.fixture(params=fcnvgg.BACKBONES)
def built(request, tmp_path):
    """A model built from each provider's files, with its optimizer and expected values."""
    kwargs, expected = pretrained_files(request.param, tmp_path)
    graph = tf.Graph()
    with graph.as_default():
        session = tf.Session(graph=graph)
        tf.set_random_seed(0)
        model = fcnvgg.FCNVGG(session)
        model.build_from_vgg(num_classes=NUM_CLASSES, backbone=request.param, **kwargs)
        labels = tf.placeholder(tf.float32, [None, None, None, NUM_CLASSES])
        train_op, loss = optimizer_step(session, model, labels, learning_rate=1e-3)
        yield request.param, session, model, labels, train_op, loss, expected
        session.close()


def test_logits_softmax_and_classes(built):
    _, session, model, _, _, _, _ = built
    images, _ = fixed_batch()
    logits, softmax, classes = session.run([model.logits, model.softmax, model.classes],
                                           {model.image_input: images})
    assert logits.shape == (BATCH, HEIGHT, IMAGE_WIDTH, NUM_CLASSES)
    np.testing.assert_allclose(softmax.sum(axis=-1), 1.0, atol=1e-5)
    assert classes.shape == (BATCH, HEIGHT, IMAGE_WIDTH)
    np.testing.assert_array_equal(classes, logits.argmax(axis=-1))
    assert model.num_classes == NUM_CLASSES


def test_pretrained_values_survive_initialisation(built):
    backbone, session, _, _, _, _, expected = built
    if backbone.startswith('scratch'):
        pytest.skip('nothing pretrained to keep')
    by_name = {v.op.name: v for v in tf.global_variables()}
    assert len(expected) >= 16
    for name, value in expected.items():
        np.testing.assert_array_equal(session.run(by_name[name]), value, err_msg=name)


def test_twenty_adam_steps_lower_the_loss(built):
    _, session, model, labels, train_op, loss, _ = built
    images, targets = fixed_batch()
    feed = {model.image_input: images, labels: targets}
    first = session.run(loss, feed)
    for _ in range(20):
        session.run(train_op, feed)
    assert session.run(loss, feed) < 0.95 * first
    assert session.run(tf.train.get_global_step()) == 20


def test_saved_model_restores_from_metagraph_with_identical_class_maps(tmp_path):
    images, targets = fixed_batch()
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        tf.set_random_seed(1)   # some seeds predict one class everywhere after 3 steps
        model = fcnvgg.FCNVGG(session)
        model.build_from_vgg(None, NUM_CLASSES, backbone='scratch', width=WIDTH)
        labels = tf.placeholder(tf.float32, [None, None, None, NUM_CLASSES])
        train_op, _ = optimizer_step(session, model, labels, 1e-3)
        for _ in range(3):
            session.run(train_op, {model.image_input: images, labels: targets})
        expected = session.run(model.classes, {model.image_input: images})
        checkpoint = tf.train.Saver().save(session, str(tmp_path / 'run' / 'e3.ckpt'))
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        restored = fcnvgg.FCNVGG(session)
        restored.build_from_metagraph(checkpoint + '.meta', checkpoint)
        classes = session.run(restored.classes, {restored.image_input: images})
    np.testing.assert_array_equal(classes, expected)
    assert len(np.unique(expected)) > 1


def test_missing_checkpoint_is_a_user_error(tmp_path):
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        with pytest.raises(UserError, match='missing checkpoint file'):
            fcnvgg.FCNVGG(session).build_from_metagraph(str(tmp_path / 'x.meta'),
                                                        str(tmp_path / 'x'))
