"""Exporting a trained run as a TF SavedModel for serving (infer.py --export DIR)."""
import os

import tensorflow.compat.v1 as tf

import resizing_tf
import tensor_names as names
from errors import UserError


def export_saved_model(checkpoint, settings, export_dir):
    """Write a SavedModel whose `serving_default` signature segments BGR images.

    In: `images`, float32 [B, H, W, 3], BGR 0..255, any H and W. Out: `classes`, int32
    [B, H, W], and `probabilities`, float32 [B, H, W, num_classes], at the input's size.
    """
    if os.path.exists(export_dir) and os.listdir(export_dir):
        raise UserError(f'--export {export_dir} exists and is not empty: choose a new '
                        'folder')
    width, height = settings.image_size
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        images = tf.placeholder(tf.float32, [None, None, None, 3], name='images')
        input_size = tf.shape(images)[1:3]
        resized = resizing_tf.resize_photos(images, (height, width))
        saver = tf.train.import_meta_graph(
            checkpoint + '.meta', clear_devices=True,
            input_map={f'{names.IMAGE_INPUT}:0': resized,
                       f'{names.KEEP_PROB}:0': tf.constant(1.0)})
        saver.restore(session, checkpoint)
        softmax = names.tensor(graph, names.SOFTMAX)
        classes = names.tensor(graph, names.CLASSES)
        probabilities = tf.image.resize(softmax, input_size, method='bilinear')
        full_classes = resizing_tf.resize_nearest(classes, input_size)
        signature = tf.saved_model.signature_def_utils.predict_signature_def(
            inputs={'images': images},
            outputs={'classes': full_classes,
                     'probabilities': probabilities})
        builder = tf.saved_model.Builder(export_dir)
        builder.add_meta_graph_and_variables(
            session, [tf.saved_model.tag_constants.SERVING],
            signature_def_map={'serving_default': signature})
        builder.save()
    print(f'[i] SavedModel written to {export_dir} (signature serving_default: images -> '
          'classes, probabilities)')
