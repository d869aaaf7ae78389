"""The training objective: softmax cross-entropy that skips don't-care pixels, and Adam."""
import tensorflow.compat.v1 as tf


def masked_cross_entropy(logits, labels, total_weight=None, name='loss'):
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
    return tf.div_no_nan(tf.reduce_sum(cross_entropy * weights), total, name=name)


def adam_step(loss, learning_rate, loss_scale=False):
    """Return the op of one Adam step on `loss` that also advances the global step.

    `loss_scale` adds dynamic loss scaling, which fp16 training needs so that small
    gradients do not flush to zero.
    """
    step = tf.train.get_or_create_global_step()
    optimizer = tf.train.AdamOptimizer(learning_rate)
    if loss_scale:
        optimizer = tf.train.experimental.MixedPrecisionLossScaleOptimizer(optimizer, 'dynamic')
    return optimizer.minimize(loss, global_step=step, name='train_op')
