"""Exporting a trained run as a TF SavedModel for serving (infer.py --export DIR)."""
import contextlib
import os
import shutil

import tensorflow.compat.v1 as tf

from roadseg.core.errors import UserError
from roadseg.model import checkpoints
from roadseg.model import tensor_names as names
from roadseg.predict import graph_resizing


def check_target(export_dir):
    """Raise `UserError` unless `export_dir` is new or an empty folder."""
    if os.path.exists(export_dir) and not os.path.isdir(export_dir):
        raise UserError(f'--export {export_dir} is a file: give a new folder')
    if os.path.isdir(export_dir) and os.listdir(export_dir):
        raise UserError(f'--export {export_dir} exists and is not empty: choose a new '
                        'folder')


@contextlib.contextmanager
def export_folder(export_dir, errors=(OSError,)):
    """Yield a temporary path beside `export_dir` (not yet created) to write an export into;
    when the block ends it becomes `export_dir` (new or empty, see `check_target`).

    A failed export (a full disk, a conversion error) leaves nothing that a retry would
    refuse: the temporary folder is removed, and an error of `errors` becomes one
    `UserError` line.
    """
    temporary = f'{export_dir.rstrip(os.sep)}.part-{os.getpid()}'
    try:
        yield temporary
        if os.path.isdir(export_dir):
            os.rmdir(export_dir)          # empty, checked before
        os.rename(temporary, export_dir)
    except errors as error:
        raise UserError(f'cannot write the export {export_dir}: {checkpoints.first_line(error)}; '
                        'nothing was left behind') from None
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def export_saved_model(checkpoint, settings, export_dir, input_scale=None):
    """Write a SavedModel whose `serving_default` signature segments BGR images.

    In: `images`, float32 [B, H, W, 3], BGR 0..255, any H and W. Out: `classes`, int32
    [B, H, W], and `probabilities`, float32 [B, H, W, num_classes], at the input's size,
    computed as infer.py computes them (roadseg/predict/prediction.py), at `input_scale` if given.
    """
    check_target(export_dir)
    with export_folder(export_dir, (OSError, tf.errors.OpError)) as temporary:
        write_saved_model(checkpoint, settings, temporary, input_scale)
    print(f'[i] SavedModel written to {export_dir} (signature serving_default: images -> '
          'classes, probabilities)')


def write_saved_model(checkpoint, settings, export_dir, input_scale=None):
    """Write the SavedModel of `export_saved_model` into `export_dir`, which must not exist."""
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        images = tf.placeholder(tf.float32, [None, None, None, 3], name='images')
        network_input, valid = graph_resizing.network_input(images, settings.image_size,
                                                            input_scale)
        with checkpoints.restoring(checkpoint):
            saver = tf.train.import_meta_graph(
                checkpoints.read_metagraph(checkpoint), clear_devices=True,
                input_map={f'{names.IMAGE_INPUT}:0': network_input,
                           f'{names.KEEP_PROB}:0': tf.constant(1.0)})
            saver.restore(session, checkpoint)
        softmax = names.tensor(graph, names.SOFTMAX)[:, :valid[0], :valid[1]]
        probabilities, full_classes = graph_resizing.to_photo_size(softmax, tf.shape(images)[1:3])
        signature = tf.saved_model.signature_def_utils.predict_signature_def(
            inputs={'images': images},
            outputs={'classes': full_classes,
                     'probabilities': probabilities})
        builder = tf.saved_model.Builder(export_dir)
        builder.add_meta_graph_and_variables(
            session, [tf.saved_model.tag_constants.SERVING],
            signature_def_map={'serving_default': signature})
        builder.save()
