"""The training graph: FCN-8s with its optimizer step on every device, the validation loss and
the epoch counter, and the `Trainer` tensors main.py feeds and fetches by their names
(tensor_names.TRAINING)."""
from collections import namedtuple

import tensorflow.compat.v1 as tf

from fcnvgg import BATCH_NORMALISED, FCNVGG, Backbone, build_fcn8s
from roadseg.core.errors import UserError
from roadseg.model import checkpoints
from roadseg.model import tensor_names as names
from roadseg.model.graph_check import DamagedMetagraph, read_trusted_metagraph
from roadseg.model.loss import masked_cross_entropy, pixel_weights
from roadseg.train import devices
from roadseg.train.optimizers import Optimizer, training_step

Trainer = namedtuple('Trainer', 'model images keep_prob labels learning_rate step_loss '
                     'valid_labels valid_loss epochs_done epochs_value set_epochs global_step '
                     'training')   # training: the batch-normalised graph's switch, or None


def build_trainer(session, settings, strategy, resume_from=None):
    """Return a Trainer: FCN-8s with its training step on every device of `strategy`.

    A resumed run is rebuilt the same way and restored by variable names, which do not
    depend on the number of devices. A run that imported vgg.zip's graph as it is (trained
    before vgg.zip loaded into the project's VGG16, or a variant that does not) records no
    widths; it is restored from its checkpoint's metagraph, on one device, with the plain
    Adam and unweighted loss it was built with.
    """
    replicated = strategy.num_replicas_in_sync > 1
    if resume_from:
        check_resumed_graph(resume_from)
    model = FCNVGG(session)
    optimizer = run_optimizer(settings)
    if resume_from and settings.widths is None:
        if replicated:
            raise UserError(f'{settings.name} uses the vgg.zip SavedModel as its own graph, '
                            'which trains on one device: resume it with --devices 1')
        if optimizer != Optimizer() or settings.class_weight_values:
            raise UserError(f'{settings.name} uses the vgg.zip SavedModel as its own graph, '
                            'built with plain Adam and no class weights: resume it without '
                            '--optimizer sgd, --weight-decay and --class-weights')
        model.build_from_metagraph(resume_from + '.meta', resume_from)
        return trainer_from_graph(model, replicated=False)
    if resume_from:     # the recorded shape; the checkpoint brings the values
        backbone = Backbone(BATCH_NORMALISED if settings.backbone == BATCH_NORMALISED
                            else 'scratch', widths=settings.widths)
    else:
        backbone = Backbone(settings.backbone, settings.vgg_dir, settings.vgg_weights or None,
                            settings.vgg_width)
    with session.graph.as_default(), strategy.scope():
        tf.set_random_seed(settings.seed)
        model.widths = build_training_graph(
            session, settings.num_classes, backbone, settings.learning_rate,
            settings.precision == 'fp16', strategy, optimizer, settings.class_weight_values)
        model.bind_tensors()
        if resume_from:
            with checkpoints.restoring(resume_from):
                tf.train.Saver().restore(session, resume_from)
    return trainer_from_graph(model, replicated)


def check_resumed_graph(checkpoint):
    """Refuse a checkpoint whose graph holds ops that no run of this project has: a resumed
    run is rebuilt from code, but such a run is someone else's program, refused as infer.py
    refuses it. A damaged `.meta` is let be: only the values are needed."""
    try:
        read_trusted_metagraph(checkpoint + '.meta')
    except DamagedMetagraph:
        pass


def run_optimizer(settings):
    """Return the optimizers.Optimizer of a run's settings."""
    return Optimizer(settings.optimizer, settings.momentum, settings.weight_decay)


def build_training_graph(session, num_classes, backbone, learning_rate, loss_scale, strategy,
                         optimizer=Optimizer(), class_weights=None):
    """Build the model and its training step on each device, and the tensors main.py feeds;
    return the network's {layer: channels}.

    Each device takes its consecutive part of the global batch; its loss is divided by
    the whole batch's total pixel weight (its pixel count without `class_weights`), so the
    gradients summed over devices are those of the whole batch's mean loss. The validation
    loss is unweighted, comparable between runs. The ops are created in a fixed order: with a
    graph seed, each random initialiser's seed follows from the ops made before it.
    """
    labels = tf.placeholder(tf.float32, [None, None, None, num_classes], name=names.LABELS)
    rate = tf.placeholder_with_default(tf.constant(learning_rate, tf.float32), [],
                                       name=names.LEARNING_RATE)
    images = keep_prob = training = None
    if strategy.num_replicas_in_sync > 1:
        images = tf.placeholder(tf.float32, [None, None, None, 3], name=names.BATCH_IMAGES)
        keep_prob = tf.placeholder_with_default(1.0, [], name=names.BATCH_KEEP_PROB)
        if backbone.kind == BATCH_NORMALISED:
            training = tf.placeholder_with_default(False, [], name=names.BATCH_IS_TRAINING)
    total_weight = tf.reduce_sum(pixel_weights(labels, class_weights))

    def replicate(build):
        """Build the model and its step on every device, then the shared tensors."""
        def replica_step():
            """This device's part: its logits, loss and update; returns the loss."""
            part = None if images is None else devices.replica_part(images)
            known = len(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
            logits = build(part, keep_prob, training)
            # This device's batch-normalisation averages move with its step.
            updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)[known:]
            loss = masked_cross_entropy(logits, devices.replica_part(labels), total_weight,
                                        class_weights=class_weights)
            with tf.control_dependencies(updates):
                step = training_step(loss, rate, optimizer, loss_scale)
            with tf.control_dependencies([step]):
                return tf.identity(loss)
        losses = strategy.extended.call_for_each_replica(replica_step)
        tf.identity(strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None),
                    name=names.STEP_LOSS)
        add_validation_and_epochs(num_classes)
    _, widths = build_fcn8s(session, num_classes, backbone, replicate)
    return widths


def add_validation_and_epochs(num_classes):
    """Add the validation loss of the first device's logits and the stored epoch count."""
    valid_labels = tf.placeholder(tf.float32, [None, None, None, num_classes],
                                  name=names.VALID_LABELS)
    logits = names.tensor(tf.get_default_graph(), names.LOGITS)
    tf.identity(masked_cross_entropy(logits, valid_labels), name=names.VALID_LOSS)
    epochs_done = tf.get_variable(names.EPOCHS_DONE_VARIABLE, [], tf.int64,
                                  tf.zeros_initializer(), trainable=False)
    tf.identity(epochs_done.read_value(), name=names.EPOCHS_COMPLETED)
    tf.group(epochs_done.assign(tf.placeholder(tf.int64, [], name=names.EPOCHS_DONE_VALUE)),
             name=names.SET_EPOCHS_DONE)


def trainer_from_graph(model, replicated):
    """Return the Trainer of a built or imported training graph, by tensor names.

    `replicated`: the graph trains on several devices, fed through the whole-batch inputs.
    """
    graph = model.session.graph

    def tensor(name):
        return names.tensor(graph, name)

    def optional(name):
        """The tensor `name`, or None where the graph has none (no batch normalisation)."""
        return tensor(name) if name in {op.name for op in graph.get_operations()} else None
    return Trainer(model,
                   tensor(names.BATCH_IMAGES) if replicated else model.image_input,
                   tensor(names.BATCH_KEEP_PROB) if replicated else model.keep_prob,
                   tensor(names.LABELS), tensor(names.LEARNING_RATE), tensor(names.STEP_LOSS),
                   tensor(names.VALID_LABELS), tensor(names.VALID_LOSS),
                   tensor(names.EPOCHS_COMPLETED), tensor(names.EPOCHS_DONE_VALUE),
                   graph.get_operation_by_name(names.SET_EPOCHS_DONE),
                   tf.train.get_global_step(graph),
                   optional(names.BATCH_IS_TRAINING if replicated else names.IS_TRAINING))
