"""The training objective: softmax cross-entropy that skips don't-care pixels, optionally
weighted per class (roadseg/train/optimizers.py takes the steps)."""
import tensorflow.compat.v1 as tf


def pixel_weights(labels, class_weights=None):
    """Return each pixel's loss weight [B, H, W]: its class's weight (1 without
    `class_weights`), 0 for an all-zero ("don't care") label row."""
    if class_weights is None:
        return tf.reduce_sum(labels, axis=-1)
    return tf.reduce_sum(labels * tf.constant(class_weights, tf.float32), axis=-1)


def masked_cross_entropy(logits, labels, total_weight=None, name='loss', class_weights=None):
    """Return the weighted mean softmax cross-entropy over pixels whose label row is not
    all zero; each pixel weighs its class's weight (1 without `class_weights`).

    An all-zero row is "don't care": it gets zero weight, so it changes neither the loss
    nor any gradient (the fused op's gradient, softmax - label, is not zero for it).
    `total_weight` divides instead of this batch's total weight: with the whole batch's,
    the parts of a batch split over devices sum to the whole batch's mean.
    """
    weights = pixel_weights(labels, class_weights)
    cross_entropy = tf.nn.softmax_cross_entropy_with_logits_v2(
        labels=tf.stop_gradient(labels), logits=logits)
    total = tf.reduce_sum(weights) if total_weight is None else total_weight
    return tf.div_no_nan(tf.reduce_sum(cross_entropy * weights), total, name=name)
