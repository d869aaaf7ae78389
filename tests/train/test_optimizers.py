"""One optimizer step (optimizers.py) against a hand computation: SGD with momentum and its
L2 decay, Adam and AdamW's decoupled decay; biases are never decayed."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from roadseg.core.errors import UserError
from roadseg.train.optimizers import Optimizer, training_step

KERNEL = np.array([[0.5, -1.0], [2.0, 0.25]], np.float32)
BIAS = np.array([0.3, -0.7], np.float32)
RATE = 0.1


def one_step(optimizer, steps=1):
    """Return (kernel, bias, global step) after `steps` steps on loss = sum(kernel^2) / 2 +
    sum(3 * bias), from KERNEL and BIAS."""
    with tf.Graph().as_default(), tf.Session() as session:
        kernel = tf.get_variable('kernel', initializer=KERNEL)
        bias = tf.get_variable('bias', initializer=BIAS)
        loss = tf.reduce_sum(tf.square(kernel)) / 2 + tf.reduce_sum(3 * bias)
        step = training_step(loss, tf.constant(RATE), optimizer)
        session.run(tf.global_variables_initializer())
        for _ in range(steps):
            session.run(step)
        return session.run([kernel, bias, tf.train.get_global_step()])


def adam_update(gradient, steps_done=0):
    """TF's first Adam step: rate * sqrt(1 - b2) / (1 - b1) * m / (sqrt(v) + eps)."""
    beta1, beta2, epsilon = 0.9, 0.999, 1e-8
    m, v = (1 - beta1) * gradient, (1 - beta2) * gradient ** 2
    rate = RATE * np.sqrt(1 - beta2) / (1 - beta1)
    return rate * m / (np.sqrt(v) + epsilon)


def test_sgd_with_momentum_and_l2_decay_on_kernels_only():
    decay = 0.05
    kernel, bias, step = one_step(Optimizer('sgd', momentum=0.9, weight_decay=decay), steps=2)
    # Momentum: v1 = g0, w1 = w0 - r v1; v2 = 0.9 v1 + g1, w2 = w1 - r v2; g = w + decay w.
    w0 = KERNEL.astype(np.float64)
    v1 = w0 + decay * w0
    w1 = w0 - RATE * v1
    v2 = 0.9 * v1 + (w1 + decay * w1)
    np.testing.assert_allclose(kernel, w1 - RATE * v2, rtol=1e-5)
    b1 = BIAS - RATE * 3
    np.testing.assert_allclose(bias, b1 - RATE * (0.9 * 3 + 3), rtol=1e-5)   # no decay
    assert step == 2


def test_sgd_without_decay_is_plain_momentum():
    kernel, _, _ = one_step(Optimizer('sgd', momentum=0.0))
    np.testing.assert_allclose(kernel, KERNEL - RATE * KERNEL, rtol=1e-6)


def test_adam_decay_is_decoupled_and_skips_biases():
    decay = 0.2
    kernel, bias, step = one_step(Optimizer('adam', weight_decay=decay))
    shrunk = KERNEL - RATE * decay * KERNEL      # shrunk by rate x decay, then Adam's step
    np.testing.assert_allclose(kernel, shrunk - adam_update(KERNEL), rtol=1e-5)
    np.testing.assert_allclose(bias, BIAS - adam_update(np.full(2, 3.0)), rtol=1e-5)
    plain, _, _ = one_step(Optimizer('adam'))
    np.testing.assert_allclose(plain, KERNEL - adam_update(KERNEL), rtol=1e-5)
    assert step == 1


@pytest.mark.parametrize('kwargs, message', [
    ({'name': 'rmsprop'}, "unknown optimizer 'rmsprop'"),
    ({'momentum': 1.0}, '--momentum must be in'),
    ({'weight_decay': -1e-4}, '--weight-decay must be in'),
])
def test_bad_optimizer_settings_are_one_clear_error(kwargs, message):
    with pytest.raises(UserError, match=message):
        Optimizer(**kwargs)
