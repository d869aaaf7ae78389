"""TensorBoard summaries written from numpy values, so the graph carries no summary ops.

The event file is written by a TensorFlow thread that hands its errors (a full disk) to the
next flush or close; `event_writer` and `flush` turn them into one `UserError` line.
"""
import contextlib

import cv2
import numpy as np
import tensorflow.compat.v1 as tf

from roadseg.core.errors import UserError

WRITE_ERRORS = (IndexError, OSError, tf.errors.OpError)


def write_failure(directory, error):
    """Return the `UserError` of events that could not be written to `directory`."""
    return UserError(f'cannot write TensorBoard events to {directory}: '
                     f'{str(error).strip().splitlines()[0]}')


@contextlib.contextmanager
def event_writer(directory, graph=None):
    """Yield a FileWriter for `directory` (with `graph`), closed on the way out."""
    try:
        writer = tf.summary.FileWriter(directory, graph)
    except WRITE_ERRORS as error:
        raise write_failure(directory, error) from None
    try:
        yield writer
    except BaseException:
        with contextlib.suppress(*WRITE_ERRORS):   # the first problem is the one to report
            writer.close()
        raise
    try:
        writer.close()
    except WRITE_ERRORS as error:
        raise write_failure(directory, error) from None


def flush(writer, directory):
    """Write out the pending events; a failure is one `UserError` line."""
    try:
        writer.flush()
    except WRITE_ERRORS as error:
        raise write_failure(directory, error) from None


def write_scalars(writer, step, values):
    """Write {tag: number} as scalar summaries at `step`."""
    summary = tf.Summary(value=[tf.Summary.Value(tag=tag, simple_value=float(value))
                                for tag, value in values.items()])
    writer.add_summary(summary, step)


def write_images(writer, step, tag, images):
    """Write BGR uint8 images as image summaries `tag/0`, `tag/1`, ... at `step`."""
    values = []
    for index, image in enumerate(images):
        encoded = cv2.imencode('.png', image)[1].tobytes()
        values.append(tf.Summary.Value(tag=f'{tag}/{index}', image=tf.Summary.Image(
            height=image.shape[0], width=image.shape[1], colorspace=3,
            encoded_image_string=encoded)))
    writer.add_summary(tf.Summary(value=values), step)


def truth_over_prediction(image, truth, prediction, blend):
    """Return the image with ground truth blended (top) above the prediction (bottom).

    `blend(image, class_map)` draws one class map on the image.
    """
    image = np.clip(image, 0, 255).astype(np.uint8)
    return np.concatenate([blend(image, truth), blend(image, prediction)], axis=0)
