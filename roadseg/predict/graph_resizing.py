"""The resizing of infer.py and of the exported model, as graph ops that give the same pixels.

Photos go to the network's size by area averaging (shrinking) or bilinear interpolation
(enlarging) with the same TF ops in both, or are scaled by a factor and padded to a multiple
of 32 with the mean colour. Class probabilities come back to the photo's size bilinearly
(half-pixel centres, as `tf.image.resize`), and the class map is their argmax.
"""
import tensorflow.compat.v1 as tf

from roadseg.model.vgg16 import VGG_MEAN_BGR

STRIDE = 32   # the network halves the resolution five times


def resize_photos(images, size):
    """Return a batch [B, H, W, 3] resized to size (height, width): area averaging when
    shrinking, bilinear with half-pixel centres when enlarging (as OpenCV's INTER_LINEAR
    in resizing.resize_photo, which prepares the training batches), unchanged at that
    size."""
    shape = tf.shape(images)
    same = tf.logical_and(tf.equal(shape[1], size[0]), tf.equal(shape[2], size[1]))
    shrinking = shape[1] * shape[2] > size[0] * size[1]
    return tf.case([(same, lambda: images),
                    (shrinking, lambda: tf.image.resize(images, size, method='area'))],
                   default=lambda: tf.image.resize_bilinear(images, size,
                                                            half_pixel_centers=True))


def scaled_size(photo_size, scale):
    """Return the (height, width) int32 tensor of a photo of `photo_size` scaled by `scale`:
    rounded, at least one pixel."""
    scaled = tf.round(tf.cast(photo_size, tf.float64) * float(scale))
    return tf.maximum(tf.cast(scaled, tf.int32), 1)


def network_input(images, image_size=None, scale=None):
    """Return (network input [B, H', W', 3], valid (height, width)) of a batch of photos.

    Without `scale`, the photos are resized to `image_size` (width, height), as the run was
    trained. With it, they are scaled by `scale` and padded at the bottom and right to a
    multiple of 32 with the mean colour (zero once the network subtracts it); the valid
    size is the part the photo covers, which is all that is kept of the network's output.
    """
    if scale is None:
        valid = tf.constant([image_size[1], image_size[0]], tf.int32)
        return resize_photos(images, valid), valid
    valid = scaled_size(tf.shape(images)[1:3], scale)
    return padded_input(images, valid), valid


def padded_input(images, valid):
    """Return the photos resized to `valid` (height, width) and padded at the bottom and
    right to a multiple of 32 with the mean colour (zero once the network subtracts it)."""
    resized = resize_photos(images, valid)
    padded_size = (valid + STRIDE - 1) // STRIDE * STRIDE
    padding = padded_size - valid
    mean = tf.constant(VGG_MEAN_BGR, tf.float32)
    return tf.pad(resized - mean, [[0, 0], [0, padding[0]], [0, padding[1]], [0, 0]]) + mean


def variant_input(images, image_size, input_scale, scale):
    """Return (network input, valid (height, width)) of a test-time variant at `scale`
    relative to the plain input: the run's image size (width, height), or the photo's
    size times `input_scale`; scaled, then padded to a multiple of 32."""
    if input_scale is not None:
        return network_input(images, scale=input_scale * scale)
    valid = tf.maximum(tf.cast(tf.round(tf.constant([image_size[1], image_size[0]],
                                                    tf.float64) * float(scale)), tf.int32), 1)
    return padded_input(images, valid), valid


def resize_probabilities(probabilities, size):
    """Return probabilities [B, h, w, C] resized bilinearly to size (height, width), with
    half-pixel centres (the values `tf.image.resize` gives in TensorFlow 2)."""
    return tf.image.resize_bilinear(probabilities, size, half_pixel_centers=True)


def to_photo_size(probabilities, size):
    """Return (probabilities [B, H, W, C], class maps [B, H, W] int32) at size (height,
    width): the probabilities resized bilinearly and their argmax, so that thin structures
    keep their true width instead of the blocks a class map enlarged by nearest neighbour
    would give. infer.py (prediction.py) and the export both use it."""
    resized = resize_probabilities(probabilities, size)
    return resized, tf.argmax(resized, axis=-1, output_type=tf.int32)
