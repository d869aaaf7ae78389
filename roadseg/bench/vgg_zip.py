"""The benchmark's vgg.zip part: the default backbone as the original article's code runs
it (the SavedModel imported as its own graph) against the project's own VGG16 with the same
weights (fc6 and fc7 as matrix products, bf16 weight copies at inference), side by side.

The SavedModel is written here, full width unless --vgg-width, as the real vgg.zip has it:
fc6 and fc7 as plain convolutions, reference variables (the file predates resource
variables), and random values (speed does not depend on them). Inference of both graphs is
restored exactly as infer.py restores a checkpoint; infer.py can make bf16 copies only of
resource variables, so, as with the real file, the imported graph's VGG16 gets none.
"""
import os

import numpy as np
import tensorflow.compat.v1 as tf

from fcnvgg import FCNVGG, Backbone, build_fcn8s, initialize_uninitialized_variables
from roadseg.bench.model import restore_model
from roadseg.bench.timing import interleaved, session_config, summary
from roadseg.data.labels import one_hot
from roadseg.model import vgg16
from roadseg.model.loss import masked_cross_entropy
from roadseg.train.optimizers import training_step

KINDS = ('imported', 'project')   # the article's way first, then the project's


def write_plain_vgg_zip(vgg_dir, width):
    """Write vgg.zip's SavedModel layout (vgg_dir/vgg/saved_model.pb, variables) of a VGG16
    whose fc6 and fc7 are convolutions on reference variables; return vgg_dir."""
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        # Reference variables (VariableV2), as TensorFlow 1 wrote them in the real file: the
        # imported graph then trains and infers as a user of that file gets it.
        with tf.variable_scope(tf.get_variable_scope(), use_resource=False):
            vgg16.build_vgg16(vgg16.vgg16_widths(width), fc_by_matmul=False)
        session.run(tf.global_variables_initializer())
        builder = tf.saved_model.Builder(os.path.join(vgg_dir, 'vgg'))
        builder.add_meta_graph_and_variables(session, ['vgg16'])
        builder.save()
    return vgg_dir


def backbone(kind, vgg_dir):
    """Return the Backbone of a kind: the imported SavedModel graph, or the project's."""
    return Backbone('savedmodel', vgg_dir, import_graph=kind == 'imported')


def training_session(kind, precision, vgg_dir, args):
    """Return (session, train step(images, labels)) of FCN-8s with Adam on one backbone."""
    graph = tf.Graph()
    session = tf.Session(graph=graph, config=session_config(precision, args))
    with graph.as_default():
        build_fcn8s(session, args.classes, backbone(kind, vgg_dir))
        model = FCNVGG(session)
        model.bind_tensors()
        labels = tf.placeholder(tf.float32, [None, None, None, args.classes])
        train_op = training_step(masked_cross_entropy(model.logits, labels), 1e-4)
        initialize_uninitialized_variables(session)

    def step(images, targets):
        session.run(train_op, {model.image_input: images, labels: targets,
                               model.keep_prob: 0.5})
    return session, step


def saved_checkpoint(kind, vgg_dir, work_dir, args):
    """Return a checkpoint of FCN-8s on one backbone, for restoring as infer.py does."""
    prefix = os.path.join(work_dir, f'vggzip-{kind}', 'model')
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        build_fcn8s(session, args.classes, backbone(kind, vgg_dir))
        return tf.train.Saver().save(session, prefix)


def time_group(variants, mode, label, batch, args):
    """Time {(kind, precision): fn} in shared rounds; return one row per precision."""
    names = {key: f'{mode} {key[0]} {key[1]} b{batch}' for key in variants}
    times = interleaved({names[key]: fn for key, fn in variants.items()}, args,
                        desc=f'vgg.zip {mode} {label} b{batch}')
    rows = []
    for precision in sorted({p for _, p in variants}, key=lambda p: p != 'fp32'):
        best = {kind: summary(times[names[(kind, precision)]])['best'] * 1000 / batch
                for kind in KINDS}
        rows.append({'mode': mode, 'size': label, 'batch': batch, 'precision': precision,
                     'imported_ms': best['imported'], 'project_ms': best['project'],
                     'speedup': best['imported'] / best['project']})
    return rows


def bench_vgg_zip(args, precisions, work_dir):
    """Time training and inference on vgg.zip, imported graph against the project's; return
    the rows (ms/image of each and the speedup) at every size and batch."""
    vgg_dir = write_plain_vgg_zip(os.path.join(work_dir, 'vgg'), args.vgg_width)
    checkpoints = {kind: saved_checkpoint(kind, vgg_dir, work_dir, args) for kind in KINDS}
    rng = np.random.default_rng(0)
    rows = []
    for width, height in args.sizes:
        label = f'{width}x{height}'
        for batch in args.batches:
            images = rng.uniform(0, 255, [batch, height, width, 3]).astype(np.float32)
            targets = one_hot(rng.integers(0, args.classes, [batch, height, width]),
                              args.classes)
            if 'inference' in args.modes:
                rows += time_inference(checkpoints, images, precisions, label, args)
            if 'training' in args.modes:
                rows += time_training(vgg_dir, images, targets, precisions, label, args)
    return rows


def time_inference(checkpoints, images, precisions, label, args):
    """Rows of inference of both graphs, each restored from its checkpoint as infer.py
    restores it (bf16 weight copies in bf16, where the variables allow them)."""
    restored = {(kind, p): restore_model(checkpoints[kind], p, args)
                for kind in KINDS for p in precisions}
    variants = {key: (lambda s=s, m=m: s.run(m.classes, {m.image_input: images}))
                for key, (s, m) in restored.items()}
    rows = time_group(variants, 'inference', label, len(images), args)
    for session, _ in restored.values():
        session.close()
    return rows


def time_training(vgg_dir, images, targets, precisions, label, args):
    """Rows of one Adam step with dropout, as main.py takes it, per kind and precision."""
    rows = []
    for precision in precisions:     # two full VGG16s with Adam at a time bound memory
        built = {(kind, precision): training_session(kind, precision, vgg_dir, args)
                 for kind in KINDS}
        variants = {key: (lambda step=step: step(images, targets))
                    for key, (_, step) in built.items()}
        rows += time_group(variants, 'training', label, len(images), args)
        for session, _ in built.values():
            session.close()
    return rows
