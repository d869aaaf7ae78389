"""The optimizers main.py trains with: Adam or SGD with momentum, each with weight decay on
the weights (every variable of two or more dimensions: kernels, not biases).

Adam's decay is decoupled (AdamW, Loshchilov and Hutter): each step first shrinks a weight
by learning rate x decay, then takes Adam's step, so the decay is not rescaled by Adam's
per-weight statistics. SGD's is the classic L2 penalty: decay x weight is added to the
weight's gradient (the gradient of decay/2 x |w|^2 added to the loss), before momentum.
"""
from dataclasses import dataclass

import tensorflow.compat.v1 as tf

from roadseg.core.errors import UserError

OPTIMIZERS = ('adam', 'sgd')


@dataclass(frozen=True)
class Optimizer:
    """Which optimizer, and its settings (main.py's --optimizer, --momentum,
    --weight-decay)."""

    name: str = 'adam'
    momentum: float = 0.9       # SGD only
    weight_decay: float = 0.0

    def __post_init__(self):
        if self.name not in OPTIMIZERS:
            raise UserError(f'unknown optimizer {self.name!r}: use {" or ".join(OPTIMIZERS)}')
        if not 0 <= self.momentum < 1:
            raise UserError(f'--momentum must be in [0, 1), not {self.momentum}')
        if not 0 <= self.weight_decay < 1:
            raise UserError(f'--weight-decay must be in [0, 1), not {self.weight_decay}')


def is_decayed(variable):
    """Return whether weight decay applies to `variable`: weights, not biases or scalars."""
    return variable.shape.ndims is not None and variable.shape.ndims >= 2


class AdamW(tf.train.AdamOptimizer):
    """Adam with decoupled weight decay: w <- w - rate * decay * w, then Adam's update."""

    def __init__(self, learning_rate, weight_decay):
        super().__init__(learning_rate)
        self._shrink = learning_rate * weight_decay

    def _decay(self, var):
        """The ops that shrink `var` before its Adam update (none for biases)."""
        return [var.assign_sub(self._shrink * var)] if is_decayed(var) else []

    def _apply_dense(self, grad, var):
        with tf.control_dependencies(self._decay(var)):
            return super()._apply_dense(grad, var)

    def _resource_apply_dense(self, grad, var):
        with tf.control_dependencies(self._decay(var)):
            return super()._resource_apply_dense(grad, var)


class SGDL2(tf.train.MomentumOptimizer):
    """SGD with momentum whose gradients of weights carry decay * w (an L2 penalty)."""

    def __init__(self, learning_rate, momentum, weight_decay):
        super().__init__(learning_rate, momentum)
        self._decay_rate = weight_decay

    def _penalised(self, grad, var):
        """`grad` plus the L2 penalty's gradient where `var` is a weight."""
        return grad + self._decay_rate * var if is_decayed(var) else grad

    def _apply_dense(self, grad, var):
        return super()._apply_dense(self._penalised(grad, var), var)

    def _resource_apply_dense(self, grad, var):
        return super()._resource_apply_dense(self._penalised(grad, var), var)


def make_optimizer(optimizer, learning_rate):
    """Return the tf.train optimizer of `optimizer` (an Optimizer) at `learning_rate`."""
    if optimizer.name == 'sgd':
        return SGDL2(learning_rate, optimizer.momentum, optimizer.weight_decay)
    if optimizer.weight_decay:
        return AdamW(learning_rate, optimizer.weight_decay)
    return tf.train.AdamOptimizer(learning_rate)


def training_step(loss, learning_rate, optimizer=Optimizer(), loss_scale=False):
    """Return the op of one optimizer step on `loss` that also advances the global step.

    `loss_scale` adds dynamic loss scaling, which fp16 training needs so that small
    gradients do not flush to zero.
    """
    step = tf.train.get_or_create_global_step()
    update = make_optimizer(optimizer, learning_rate)
    if loss_scale:
        update = tf.train.experimental.MixedPrecisionLossScaleOptimizer(update, 'dynamic')
    return update.minimize(loss, global_step=step, name='train_op')
