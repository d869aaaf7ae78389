"""The training objective: don't-care pixels weigh nothing, and fp16's loss scaling learns."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import fcnvgg
from model_fixtures import NUM_CLASSES, WIDTH, fixed_batch, optimizer_step


def test_dont_care_pixels_change_neither_loss_nor_gradient():
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        model = fcnvgg.FCNVGG(session)
        model.build_from_vgg(None, NUM_CLASSES, backbone='scratch', width=WIDTH)
        labels = tf.placeholder(tf.float32, [None, None, None, NUM_CLASSES])
        _, loss = optimizer_step(session, model, labels)
        gradients = tf.gradients(loss, tf.trainable_variables())
        images, targets = fixed_batch()
        logits = session.run(model.logits, {model.image_input: images})
        dont_care = targets.sum(axis=-1) == 0
        changed = logits.copy()
        changed[dont_care] += np.random.RandomState(3).normal(0, 50, changed[dont_care].shape)

        def loss_and_gradients(fed_logits):
            return session.run([loss, gradients], {model.image_input: images, labels: targets,
                                                   model.logits: fed_logits})
        base_loss, base_gradients = loss_and_gradients(logits)
        new_loss, new_gradients = loss_and_gradients(changed)
        assert new_loss == pytest.approx(base_loss, abs=1e-6)
        for base, new in zip(base_gradients, new_gradients):
            np.testing.assert_allclose(new, base, atol=1e-6)
        # The same change on labelled pixels does move the loss: the test can fail.
        cared = logits.copy()
        cared[~dont_care] += np.random.RandomState(3).normal(0, 50, cared[~dont_care].shape)
        assert abs(loss_and_gradients(cared)[0] - base_loss) > 1e-3
        # The loss is the mean over labelled pixels only.
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_softmax = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        expected = -(targets * log_softmax).sum(axis=-1)[~dont_care].mean()
        assert base_loss == pytest.approx(expected, rel=1e-4)


def test_loss_scaled_optimizer_for_fp16_still_learns():
    # fp16 needs a GPU, but its dynamic loss scaling is plain graph code: check it on the CPU.
    images, targets = fixed_batch()
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        model = fcnvgg.FCNVGG(session)
        model.build_from_vgg(None, NUM_CLASSES, backbone='scratch', width=WIDTH)
        labels = tf.placeholder(tf.float32, [None, None, None, NUM_CLASSES])
        train_op, loss = optimizer_step(session, model, labels, 1e-3, loss_scale=True)
        assert any('loss_scale' in v.op.name for v in tf.global_variables())
        feed = {model.image_input: images, labels: targets}
        first = session.run(loss, feed)
        for _ in range(10):
            session.run(train_op, feed)
        assert session.run(loss, feed) < 0.95 * first

