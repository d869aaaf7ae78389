"""Train FCN-8s on a data source.

    python main.py --data-source kitti --data-dir data/kitti

Each epoch trains over the training split, then scores the whole validation split (loss,
pixel accuracy, per-class IoU and mean IoU from one confusion matrix), writes TensorBoard
summaries and, every --checkpoint-interval epochs and at the end, a checkpoint into the run
directory (--name), beside settings.json: all that infer.py and --resume need.
"""
import os
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')  # TensorFlow's C++ start-up notes
import argparse
import shutil
import signal
import time
from collections import namedtuple

import numpy as np
import tensorflow.compat.v1 as tf
from tqdm import tqdm

import devices
import fcnvgg
import metrics
import precision
import runs
import summaries
import utils

DEFAULTS = {'data_source': 'kitti', 'epochs': 50, 'batch_size': 8, 'learning_rate': 1e-4,
            'keep_prob': 0.5, 'valid_fraction': 0.1, 'checkpoint_interval': 10, 'seed': 0,
            'precision': 'fp32', 'vgg_dir': 'vgg', 'vgg_width': 1.0}
RESUMABLE = ('data_source', 'data_dir', 'batch_size', 'learning_rate', 'keep_prob',
             'valid_fraction', 'checkpoint_interval', 'seed', 'precision', 'tensorboard_dir',
             'vgg_width', 'widths')
IMAGE_INTERVAL = 5        # epochs between validation images in TensorBoard
IMAGES_SHOWN = 3
CHECKPOINTS_KEPT = 5

Trainer = namedtuple('Trainer', 'model images keep_prob labels learning_rate step_loss '
                     'valid_labels valid_loss epochs_done epochs_value set_epochs')


class NonFiniteLoss(Exception):
    """The training loss became NaN or infinite."""


def parse_args(argv=None):
    """Return the command line arguments; unset tunables are None (see DEFAULTS)."""
    parser = argparse.ArgumentParser(
        description='Train FCN-8s semantic segmentation on a data source.',
        epilog='Mean IoU averages the classes present in the ground truth or the prediction '
               'of the validation set; a class absent from both is left out of the mean. '
               'Pixels a source marks "don\'t care" are left out of every metric.')
    add = parser.add_argument
    add('--name', default=None, help='run directory for checkpoints, settings and '
        'TensorBoard events (default runs/<data-source>)')
    add('--data-source', help='data source module source_<name>.py (default kitti)')
    add('--data-dir', help='data set directory (default data/<data-source>)')
    backbone = parser.add_mutually_exclusive_group()
    backbone.add_argument('--vgg-dir', help='folder holding (or receiving) vgg.zip, the '
                          'VGG16 SavedModel: the default backbone (default vgg)')
    backbone.add_argument('--vgg-weights', nargs='?', const='', metavar='H5',
                          help="use Keras' ImageNet VGG16 weights: this HDF5 file, or with no "
                          "file Keras' cache (~/.keras/models), downloading when missing")
    backbone.add_argument('--vgg-init', choices=['scratch'],
                          help='scratch: train VGG16 from He initialisation, no files needed')
    add('--vgg-width', type=float, help='with --vgg-init scratch: width multiplier of every '
        'VGG16 layer (default 1.0, the full network)')
    add('--epochs', type=int, help='total number of epochs, counting resumed ones (default 50)')
    add('--batch-size', type=int, help='images per training step (default 8)')
    add('--learning-rate', type=float, help='Adam learning rate (default 1e-4)')
    add('--keep-prob', type=float, help='dropout keep probability of fc6 and fc7 (default 0.5)')
    add('--valid-fraction', type=float, help='fraction of samples held out for validation, '
        'where the source splits (default 0.1)')
    add('--tensorboard-dir', help='TensorBoard event directory (default <name>/tensorboard)')
    add('--checkpoint-interval', type=int, help='epochs between checkpoints; one is also '
        'written at the end and on Ctrl-C (default 10)')
    add('--seed', type=int, help='seed of the split, shuffling, flips and initialisation '
        '(default 0)')
    add('--devices', type=devices.parse_devices, help='N or a comma-separated list of device '
        'names: synchronous data-parallel training, the global batch split across the '
        'devices (default: every visible GPU, else the CPU; on a machine without GPUs, N '
        'splits the CPU into N logical devices)')
    add('--precision', choices=precision.PRECISIONS, help='fp32; bf16: oneDNN bfloat16 mixed '
        'precision on CPUs with avx512_bf16/AMX; fp16: CUDA mixed precision with loss scaling '
        'on a GPU. Falls back to fp32 where the hardware lacks it (default fp32)')
    run = parser.add_mutually_exclusive_group()
    run.add_argument('--resume', action='store_true', help="continue the run from its latest "
                     "checkpoint: epochs, optimizer state and TensorBoard steps go on; the "
                     "run's recorded settings apply unless given again")
    run.add_argument('--force', action='store_true', help='start the run over, deleting its '
                     'checkpoints and events')
    return parser.parse_args(argv)


def resolve_config(args, recorded):
    """Return the run's configuration: explicit flags, else the recorded run, else DEFAULTS."""
    config = dict(DEFAULTS)
    config.update({k: recorded[k] for k in RESUMABLE if recorded.get(k) is not None})
    config.update({k: v for k, v in vars(args).items() if v is not None})
    config['name'] = config['name'] or os.path.join('runs', config['data_source'])
    config['data_dir'] = config.get('data_dir') or os.path.join('data', config['data_source'])
    config['tensorboard_dir'] = (config.get('tensorboard_dir')
                                 or os.path.join(config['name'], 'tensorboard'))
    if args.vgg_weights is not None:
        config['backbone'] = 'keras'
    elif args.vgg_init == 'scratch':
        config['backbone'] = 'scratch'
    else:
        config['backbone'] = recorded.get('backbone', 'savedmodel')
    return config


def validate_config(config):
    """Raise `UserError` for values no run can use."""
    for key in ('epochs', 'batch_size', 'checkpoint_interval'):
        if config[key] < 1:
            raise utils.UserError(f'--{key.replace("_", "-")} must be at least 1')
    if not 0 < config['keep_prob'] <= 1:
        raise utils.UserError('--keep-prob must be in (0, 1]')
    if not config['learning_rate'] > 0:
        raise utils.UserError('--learning-rate must be positive')
    if not 0 < config['vgg_width'] <= 4:
        raise utils.UserError('--vgg-width must be in (0, 4]')


def check_run_dir(name, resume, force):
    """Check the run directory against --resume/--force; return the recorded settings."""
    exists = os.path.isdir(name) and bool(os.listdir(name))
    if resume:
        runs.checkpoint_paths(name)
        return runs.read_settings(name)
    if exists and not force:
        raise utils.UserError(f'run directory {name} already exists: add --resume to continue '
                              'it, --force to start over, or choose another --name')
    if exists:
        is_run = os.path.exists(os.path.join(name, runs.SETTINGS_FILE)) or \
            os.path.exists(os.path.join(name, 'checkpoint'))
        if not is_run:
            raise utils.UserError(f'{name} is not a run directory (no settings.json or '
                                  'checkpoint): --force only starts a run over')
    return {}


def build_trainer(session, config, strategy, resume_from):
    """Return a Trainer: FCN-8s with its training step on every device of `strategy`.

    A resumed run is rebuilt the same way and restored by variable names, which do not
    depend on the number of devices; a run on the vgg.zip backbone (one device only) is
    restored from its checkpoint's metagraph.
    """
    model = fcnvgg.FCNVGG(session)
    if resume_from and config['backbone'] == 'savedmodel':
        if strategy.num_replicas_in_sync > 1:
            raise utils.UserError('a run on the vgg.zip backbone trains on one device: '
                                  'resume it with --devices 1')
        model.build_from_metagraph(resume_from + '.meta', resume_from)
        return trainer_from_graph(model, session.graph)
    with session.graph.as_default(), strategy.scope():
        tf.set_random_seed(config['seed'])
        build_training_graph(model, config, strategy, rebuild=bool(resume_from))
        model.load_pretrained()
        utils.initialize_uninitialized_variables(session)
        model.bind_tensors()
        if resume_from:
            tf.train.Saver().restore(session, resume_from)
    return trainer_from_graph(model, session.graph)


def build_training_graph(model, config, strategy, rebuild):
    """Build the model and its training step on each device, and the tensors main.py feeds.

    Each device takes its consecutive part of the global batch; its loss is divided by
    the whole batch's pixel count, so the gradients summed over devices are those of the
    whole batch's mean loss. `rebuild` recreates the recorded network shape, for restoring.
    """
    num_classes = config['num_classes']
    labels = tf.placeholder(tf.float32, [None, None, None, num_classes], name='labels')
    learning_rate = tf.placeholder_with_default(
        tf.constant(config['learning_rate'], tf.float32), [], name='learning_rate')
    images = keep_prob = None
    if strategy.num_replicas_in_sync > 1:
        images = tf.placeholder(tf.float32, [None, None, None, 3], name='batch_images')
        keep_prob = tf.placeholder_with_default(1.0, [], name='batch_keep_prob')
    total_weight = tf.reduce_sum(labels)
    backbone, widths = ('scratch', config['widths']) if rebuild else (config['backbone'], None)

    def replica_step():
        part = None if images is None else devices.replica_part(images)
        logits = model.build_network(config['vgg_dir'], num_classes, backbone,
                                     config.get('vgg_weights') or None, config['vgg_width'],
                                     widths, part, keep_prob)
        train_op, loss = model.get_optimizer(
            devices.replica_part(labels), learning_rate, config['precision'] == 'fp16',
            logits, total_weight, initialize=False)
        with tf.control_dependencies([train_op]):
            return tf.identity(loss)
    losses = strategy.extended.call_for_each_replica(replica_step)
    tf.identity(strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None), name='step_loss')
    valid_labels = tf.placeholder(tf.float32, [None, None, None, num_classes],
                                  name='valid_labels')
    logits = tf.get_default_graph().get_tensor_by_name('logits:0')
    tf.identity(fcnvgg.masked_cross_entropy(logits, valid_labels), name='valid_loss')
    epochs_done = tf.get_variable('epochs_done', [], tf.int64, tf.zeros_initializer(),
                                  trainable=False)
    tf.identity(epochs_done.read_value(), name='epochs_completed')
    tf.group(epochs_done.assign(tf.placeholder(tf.int64, [], name='epochs_done_value')),
             name='set_epochs_done')


def trainer_from_graph(model, graph):
    """Return the Trainer of a built or imported training graph, by tensor names."""
    def tensor(name):
        return graph.get_tensor_by_name(f'{name}:0')
    several = any(op.name == 'batch_images' for op in graph.get_operations())
    return Trainer(model, tensor('batch_images') if several else model.image_input,
                   tensor('batch_keep_prob') if several else model.keep_prob,
                   tensor('labels'), tensor('learning_rate'), tensor('step_loss'),
                   tensor('valid_labels'), tensor('valid_loss'), tensor('epochs_completed'),
                   tensor('epochs_done_value'), graph.get_operation_by_name('set_epochs_done'))


class StopRequest:
    """Within `with`, turns the first Ctrl-C into a request to stop after the current step."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum, frame):
        if self.requested:          # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        self.requested = True
        tqdm.write('[i] Ctrl-C: stopping after this step and saving a checkpoint '
                   '(Ctrl-C again to abort without saving)')


def train_epoch(session, trainer, source, config, epoch, stop):
    """Train one epoch (or until a stop request); return the mean training loss."""
    total, seen = 0.0, 0
    feed = {trainer.keep_prob: config['keep_prob'],
            trainer.learning_rate: config['learning_rate']}
    with tqdm(total=source.num_training, unit='img', desc=f'epoch {epoch}', leave=False) as bar:
        for images, labels in source.train_generator(config['batch_size']):
            feed.update({trainer.images: images, trainer.labels: labels})
            loss = session.run(trainer.step_loss, feed)
            if not np.isfinite(loss):
                raise NonFiniteLoss(f'the training loss became {loss} in epoch {epoch}')
            total, seen = total + loss * len(images), seen + len(images)
            bar.update(len(images))
            bar.set_postfix(loss=f'{total / seen:.4f}')
            if stop.requested:
                break
    return total / max(seen, 1)


def validate(session, trainer, source, config):
    """Return (loss, confusion matrix, a few (image, truth, prediction)) on the valid split."""
    confusion = metrics.ConfusionMatrix(config['num_classes'])
    loss_sum, pixels, shown = 0.0, 0, []
    model = trainer.model
    with tqdm(total=source.num_validation, unit='img', desc='validation', leave=False) as bar:
        for images, labels in source.valid_generator(config['batch_size']):
            loss, classes = session.run([trainer.valid_loss, model.classes],
                                        {model.image_input: images, trainer.valid_labels: labels,
                                         model.keep_prob: 1.0})
            truth = utils.labels_to_class_map(labels)
            confusion.update(truth, classes)
            cared = int((truth >= 0).sum())
            loss_sum, pixels = loss_sum + loss * cared, pixels + cared
            shown += list(zip(images, truth, classes))[:IMAGES_SHOWN - len(shown)]
            bar.update(len(images))
    return loss_sum / max(pixels, 1), confusion, shown


def save_checkpoint(session, saver, trainer, run_dir, epochs_done):
    """Save a checkpoint (with metagraph) that records `epochs_done`; return its prefix."""
    session.run(trainer.set_epochs, {trainer.epochs_value: epochs_done})
    step = tf.train.global_step(session, tf.train.get_global_step(session.graph))
    return saver.save(session, os.path.join(run_dir, runs.CHECKPOINT_PREFIX), global_step=step)


def print_iou_table(confusion, class_names):
    """Print per-class IoU, with class names where the source has them."""
    print('[i] Per-class IoU on the validation set (- : absent from truth and prediction)')
    for index, value in enumerate(confusion.iou()):
        name = class_names[index] if class_names else f'class {index}'
        print(f'[i]   {index:3d} {name:<20s} {"-" if np.isnan(value) else f"{value:.4f}"}')
    print(f'[i]   mean IoU {confusion.mean_iou():.4f}')


def print_config(config):
    """Print the run's configuration as [i] lines."""
    keys = ('name', 'data_source', 'data_dir', 'backbone', 'devices', 'precision', 'epochs',
            'batch_size', 'learning_rate', 'keep_prob', 'valid_fraction', 'checkpoint_interval',
            'seed', 'tensorboard_dir')
    for key in keys:
        print(f'[i] {key.replace("_", " "):<20s}{config[key]}')


def run_epochs(session, trainer, source, config, writer, first_epoch, stop):
    """Train and validate epochs; return the last confusion matrix (None if none ran)."""
    saver = tf.train.Saver(max_to_keep=CHECKPOINTS_KEPT)
    if first_epoch > 1:     # resumed: keep listing (and rotating) the earlier checkpoints
        saver.recover_last_checkpoints(runs.checkpoint_paths(config['name']))
    confusion, done = None, first_epoch - 1
    try:
        for epoch in range(first_epoch, config['epochs'] + 1):
            started = time.time()
            train_loss = train_epoch(session, trainer, source, config, epoch, stop)
            if stop.requested:
                break
            values = {'train/loss': train_loss}
            line = f'[i] epoch {epoch}/{config["epochs"]}: train loss {train_loss:.4f}'
            if source.num_validation:
                valid_loss, confusion, shown = validate(session, trainer, source, config)
                values.update({'valid/loss': valid_loss, 'valid/mean_iou': confusion.mean_iou(),
                               'valid/pixel_accuracy': confusion.pixel_accuracy()})
                line += (f', valid loss {valid_loss:.4f}, pixel accuracy '
                         f'{confusion.pixel_accuracy():.4f}, mIoU {confusion.mean_iou():.4f}')
                if epoch % IMAGE_INTERVAL == 0 or epoch in (first_epoch, config['epochs']):
                    write_validation_images(writer, epoch, shown, config)
            summaries.write_scalars(writer, epoch, values)
            writer.flush()
            print(f'{line} ({time.time() - started:.0f} s)', flush=True)
            done = epoch
            if done % config['checkpoint_interval'] == 0 or done == config['epochs']:
                save_checkpoint(session, saver, trainer, config['name'], done)
    except NonFiniteLoss as error:
        latest = tf.train.latest_checkpoint(config['name']) or 'none yet'
        raise utils.UserError(f'{error}: stopped without saving; the checkpoints in '
                              f'{config["name"]} are kept (latest: {latest}). Try a lower '
                              '--learning-rate') from None
    if stop.requested:
        path = save_checkpoint(session, saver, trainer, config['name'], done)
        print(f'[i] Interrupted after {done} complete epoch(s): saved {path}. Continue with: '
              f'python main.py --name {config["name"]} --resume')
    return confusion


def write_validation_images(writer, epoch, shown, config):
    """Write ground truth above prediction, blended on validation images, to TensorBoard."""
    colors = runs.label_colors(config)

    def blend(image, class_map):
        return utils.blend_labels(image, class_map, colors)
    images = [summaries.truth_over_prediction(image, truth, prediction, blend)
              for image, truth, prediction in shown]
    summaries.write_images(writer, epoch, 'valid/truth_over_prediction', images)


def main(argv=None):
    """Parse, validate, build, train, report."""
    args = parse_args(argv)
    utils.quiet_opencv()
    args.name = args.name or os.path.join('runs', args.data_source or DEFAULTS['data_source'])
    recorded = check_run_dir(args.name, args.resume, args.force)
    config = resolve_config(args, recorded)
    validate_config(config)
    config['devices'] = devices.choose_devices(args.devices)
    config['precision'] = precision.resolve(config['precision'])
    source = utils.load_source_data(config['data_source'], config['data_dir'],
                                    config['valid_fraction'], config['seed'])
    config.update(runs.source_settings(source))
    if recorded and recorded.get('num_classes') != config['num_classes']:
        raise utils.UserError(f'{args.name} was trained for {recorded.get("num_classes")} '
                              f'classes, {config["data_source"]} has {config["num_classes"]}')
    print_config(config)
    print(f'[i] {source.num_training} training, {source.num_validation} validation samples, '
          f'{config["num_classes"]} classes, image size {config["image_size"]}')
    resume_from = runs.checkpoint_paths(args.name)[-1] if args.resume else None
    strategy, target = devices.make_strategy(config['devices'])
    graph = tf.Graph()
    session_config = devices.configure_session(precision.session_config(config['precision']),
                                               config['devices'], strategy)
    with graph.as_default(), tf.Session(target, graph=graph, config=session_config) as session:
        trainer = build_trainer(session, config, strategy, resume_from)
        if args.force and os.path.isdir(args.name):
            shutil.rmtree(args.name)  # only now: bad input or a failed download keep the old run
        os.makedirs(args.name, exist_ok=True)
        config['widths'] = trainer.model.widths or config.get('widths')
        runs.write_settings(args.name, {k: v for k, v in config.items()
                                        if k not in ('resume', 'force')})
        first_epoch = int(session.run(trainer.epochs_done)) + 1
        if hasattr(source, 'epoch'):      # resumed epochs get their own shuffles and flips
            source.epoch = first_epoch - 1
        if first_epoch > config['epochs']:
            print(f'[i] {args.name} has already trained {first_epoch - 1} epochs; raise '
                  '--epochs to train more')
            return 0
        with tf.summary.FileWriter(config['tensorboard_dir'], graph) as writer, \
                StopRequest() as stop:
            confusion = run_epochs(session, trainer, source, config, writer, first_epoch, stop)
    if confusion is not None:
        print_iou_table(confusion, config.get('class_names'))
    return 0


if __name__ == '__main__':
    utils.run_script(main)
