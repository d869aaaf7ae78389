"""The resizing of infer.py and of the exported model, as graph ops that give the same pixels.

Photos go to the network's size by area averaging (shrinking) or bilinear interpolation
(enlarging) with the same TF ops in both; class maps come back by nearest neighbour with the
index formula of `resizing.nearest_indices`, computed in float64.
"""
import tensorflow.compat.v1 as tf


class PhotoResizer:
    """Resizes photos for the network with `resize_photos`, in a session's graph."""

    def __init__(self, session, size):
        self.session = session
        with session.graph.as_default():
            self.photo = tf.placeholder(tf.float32, [None, None, 3], name='photo')
            self.resized = resize_photos(self.photo[None], (size[1], size[0]))[0]

    def __call__(self, image):
        """Return a uint8 [H, W, 3] photo as float32 at the network's size."""
        return self.session.run(self.resized, {self.photo: image})


def nearest_indices(in_size, out_size):
    """TF twin of `resizing.nearest_indices` for dynamic sizes."""
    in_size, out_size = tf.cast(in_size, tf.float64), tf.cast(out_size, tf.float64)
    centres = (tf.range(out_size, dtype=tf.float64) + 0.5) * in_size / out_size
    return tf.minimum(tf.cast(tf.floor(centres), tf.int32), tf.cast(in_size, tf.int32) - 1)


def resize_nearest(class_maps, size):
    """TF twin of `resizing.resize_nearest` for a batch [B, H, W] and size (height, width)
    tensors."""
    shape = tf.shape(class_maps)
    rows = nearest_indices(shape[1], size[0])
    cols = nearest_indices(shape[2], size[1])
    return tf.gather(tf.gather(class_maps, rows, axis=1), cols, axis=2)


def resize_photos(images, size):
    """Return a batch [B, H, W, 3] resized to size (height, width): area averaging when
    shrinking, bilinear when enlarging, unchanged at that size."""
    shape = tf.shape(images)
    same = tf.logical_and(tf.equal(shape[1], size[0]), tf.equal(shape[2], size[1]))
    shrinking = shape[1] * shape[2] > size[0] * size[1]
    return tf.case([(same, lambda: images),
                    (shrinking, lambda: tf.image.resize(images, size, method='area'))],
                   default=lambda: tf.image.resize(images, size, method='bilinear'))
