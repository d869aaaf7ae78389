"""The resizing of infer.py and of the exported model, which must give the same pixels.

Photos go to the network's size by area averaging (shrinking) or bilinear interpolation
(enlarging) with the same TF ops in both; class maps come back by nearest neighbour with
one index formula computed in float64, in numpy for infer.py and in TF for the export.
"""
import numpy as np
import tensorflow.compat.v1 as tf


def nearest_indices(in_size, out_size):
    """Return, for each output index, the input index nearest to its pixel centre."""
    centres = (np.arange(out_size, dtype=np.float64) + 0.5) * in_size / out_size
    return np.minimum(np.floor(centres).astype(np.int64), in_size - 1)


def resize_nearest(class_map, size):
    """Return a [H, W] class map resized to size (width, height) by nearest neighbour."""
    rows = nearest_indices(class_map.shape[0], size[1])
    cols = nearest_indices(class_map.shape[1], size[0])
    return class_map[rows[:, None], cols[None, :]]


class PhotoResizer:
    """Resizes photos for the network with `tf_resize_photos`, in a session's graph."""

    def __init__(self, session, size):
        self.session = session
        with session.graph.as_default():
            self.photo = tf.placeholder(tf.float32, [None, None, 3], name='photo')
            self.resized = tf_resize_photos(self.photo[None], (size[1], size[0]))[0]

    def __call__(self, image):
        """Return a uint8 [H, W, 3] photo as float32 at the network's size."""
        return self.session.run(self.resized, {self.photo: image})


def tf_nearest_indices(in_size, out_size):
    """TF twin of `nearest_indices` for dynamic sizes."""
    in_size, out_size = tf.cast(in_size, tf.float64), tf.cast(out_size, tf.float64)
    centres = (tf.range(out_size, dtype=tf.float64) + 0.5) * in_size / out_size
    return tf.minimum(tf.cast(tf.floor(centres), tf.int32), tf.cast(in_size, tf.int32) - 1)


def tf_resize_nearest(class_maps, size):
    """TF twin of `resize_nearest` for a batch [B, H, W] and size (height, width) tensors."""
    shape = tf.shape(class_maps)
    rows = tf_nearest_indices(shape[1], size[0])
    cols = tf_nearest_indices(shape[2], size[1])
    return tf.gather(tf.gather(class_maps, rows, axis=1), cols, axis=2)


def tf_resize_photos(images, size):
    """TF twin of `resize_photo` for a batch [B, H, W, 3] and size (height, width)."""
    shape = tf.shape(images)
    same = tf.logical_and(tf.equal(shape[1], size[0]), tf.equal(shape[2], size[1]))
    shrinking = shape[1] * shape[2] > size[0] * size[1]
    return tf.case([(same, lambda: images),
                    (shrinking, lambda: tf.image.resize(images, size, method='area'))],
                   default=lambda: tf.image.resize(images, size, method='bilinear'))
