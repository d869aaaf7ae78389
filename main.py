"""Train FCN-8s on a data source.

    python main.py --data-source kitti --data-dir data/kitti

Each epoch trains over the training split, then scores the whole validation split (loss,
pixel accuracy, per-class IoU and mean IoU from one confusion matrix), writes TensorBoard
summaries and, every --checkpoint-interval epochs and at the end, a checkpoint into the run
directory (--name), beside settings.json: all that infer.py and --resume need.
"""
from roadseg.core import console

console.quiet_tensorflow()  # first: TensorFlow's start-up notes stay off the screen
import os
import contextlib

import numpy as np
import tensorflow.compat.v1 as tf

from fcnvgg import BATCH_NORMALISED
from roadseg.core.errors import ArgumentParser, UserError, run_script
from roadseg.core.files import make_directory
from roadseg.data import augmentation, class_weights, images, sources
from roadseg.model import checkpoints, precision, weight_files
from roadseg.train import devices, epochs, run_settings, summaries
from roadseg.train.optimizers import OPTIMIZERS
from roadseg.train.replacement import Replacement, recover_abandoned
from roadseg.train.schedules import SCHEDULES
from roadseg.train.trainer import build_trainer

DEFAULTS = run_settings.RunSettings()


def parse_args(argv=None):
    """Return the command line arguments; unset settings are None (roadseg/train/run_settings.py
    has their defaults)."""
    parser = ArgumentParser(
        description='Train FCN-8s semantic segmentation on a data source.',
        epilog='Mean IoU averages the classes present in the ground truth or the prediction '
               'of the validation set; a class absent from both is left out of the mean. '
               'Pixels a source marks "don\'t care" are left out of every metric.')
    add = parser.add_argument
    add('--name', default=None, help='run directory for checkpoints, settings and '
        'TensorBoard events (default runs/<data-source>)')
    add('--data-source', help=f'data source module source_<name>.py (default '
        f'{DEFAULTS.data_source})')
    add('--data-dir', help='data set directory (default data/<data-source>)')
    backbone = parser.add_mutually_exclusive_group()
    backbone.add_argument('--vgg-dir', help='folder holding (or receiving) vgg.zip, the '
                          f'VGG16 SavedModel: the default backbone (default {DEFAULTS.vgg_dir})')
    backbone.add_argument('--vgg-weights', nargs='?', const='', metavar='H5',
                          help="use Keras' ImageNet VGG16 weights: this HDF5 file, or with no "
                          "file Keras' cache (~/.keras/models), downloading when missing")
    backbone.add_argument('--vgg-init', choices=['scratch', BATCH_NORMALISED],
                          help='scratch: train VGG16 from He initialisation, no files needed; '
                          f'{BATCH_NORMALISED}: the same with batch normalisation after each '
                          'convolution (learns faster from scratch)')
    add('--vgg-width', type=float, help='with --vgg-init: width multiplier of every VGG16 '
        f'layer (default {DEFAULTS.vgg_width}, the full network)')
    add('--epochs', type=int, help='total number of epochs, counting resumed ones (default '
        f'{DEFAULTS.epochs})')
    add('--time-budget', type=float, metavar='MINUTES', help='train a new run for at most '
        'about this many minutes: after each epoch, --epochs falls to the epochs that still '
        'fit at the pace measured so far, and the learning-rate schedule is fitted to them '
        f'(default {DEFAULTS.time_budget:g}: no budget)')
    add('--batch-size', type=int, help=f'images per training step (default '
        f'{DEFAULTS.batch_size})')
    add('--learning-rate', type=float, help=f'learning rate, the peak of the schedule '
        f'(default {DEFAULTS.learning_rate})')
    add('--lr-schedule', choices=SCHEDULES, help='constant, or poly: the rate falls as (1 - '
        f'step / total steps) ^ 0.9 over the run\'s epochs (default {DEFAULTS.lr_schedule})')
    add('--warmup-epochs', type=float, help='the rate ramps up linearly over these first '
        f'epochs (default {DEFAULTS.warmup_epochs:g})')
    add('--optimizer', choices=OPTIMIZERS, help=f'adam, or sgd with momentum (default '
        f'{DEFAULTS.optimizer})')
    add('--momentum', type=float, help=f'SGD momentum (default {DEFAULTS.momentum})')
    add('--weight-decay', type=float, help='weight decay of kernels, not biases: decoupled '
        f'for adam (AdamW), an L2 penalty for sgd (default {DEFAULTS.weight_decay:g})')
    add('--class-weights', choices=run_settings.CLASS_WEIGHTINGS, help='balanced: weigh '
        "each class's pixels by median frequency balancing over the training labels, "
        f'computed once and recorded (default {DEFAULTS.class_weights})')
    augmentation.add_flags(parser)
    add('--keep-prob', type=float, help='dropout keep probability of fc6 and fc7 (default '
        f'{DEFAULTS.keep_prob})')
    add('--valid-fraction', type=float, help='fraction of samples held out for validation, '
        f'where the source splits (default {DEFAULTS.valid_fraction})')
    add('--train-splits', type=split_names, metavar='NAME,...', help="train on these of the "
        "data source's own splits, where it has named ones (CamVid: train,val adds val/ to "
        "train/; default: the source's training split)")
    add('--tensorboard-dir', help='TensorBoard event directory (default '
        f'<name>/{run_settings.TENSORBOARD_DIR})')
    add('--checkpoint-interval', type=int, help='epochs between checkpoints; one is also '
        f'written at the end and on Ctrl-C (default {DEFAULTS.checkpoint_interval})')
    add('--seed', type=int, help='seed of the split, shuffling, flips and initialisation '
        f'(default {DEFAULTS.seed})')
    add('--devices', type=devices.parse_devices, help='N or a comma-separated list of device '
        'names: synchronous data-parallel training, the global batch split across the '
        'devices (default: every visible GPU, else the CPU; on a machine without GPUs, N '
        'splits the CPU into N logical devices)')
    add('--precision', choices=precision.PRECISIONS, help='fp32; bf16: oneDNN bfloat16 mixed '
        'precision on CPUs with avx512_bf16/AMX; fp16: CUDA mixed precision with loss scaling '
        f'on a GPU. Falls back to fp32 where the hardware lacks it (default {DEFAULTS.precision})')
    run = parser.add_mutually_exclusive_group()
    run.add_argument('--resume', action='store_true', help="continue the run from its latest "
                     "checkpoint: epochs, optimizer state and TensorBoard steps go on; the "
                     "run's recorded settings apply unless given again")
    run.add_argument('--force', action='store_true', help='start the run over, deleting its '
                     'checkpoints and events')
    return parser.parse_args(argv)


def split_names(text):
    """Return the split names of a comma-separated list."""
    return [name.strip() for name in text.split(',') if name.strip()]


def settings_flags(args):
    """Return {settings field: value or None} from the command line."""
    flags = {name: getattr(args, name) for name in run_settings.FLAGS}
    flags['backbone'] = 'keras' if args.vgg_weights is not None else args.vgg_init
    return flags


def check_resumed_optimizer(name, recorded, optimizer):
    """Raise `UserError` when a resumed run is asked to change optimizer: the other one's
    state (Adam's moments, SGD's momentum) is not in its checkpoints."""
    if recorded is not None and optimizer and optimizer != recorded.optimizer:
        raise UserError(f'{name} trains with {recorded.optimizer}; its checkpoints hold no '
                        f'{optimizer} state: resume without --optimizer, or start a new run')


def check_run_dir(name, resume, force):
    """Check the run directory against --resume/--force, after recovering what a killed
    --force run left; return the recorded settings (None for a new run)."""
    recover_abandoned(name)
    if os.path.exists(name) and not os.path.isdir(name):
        raise UserError(f'--name {name} is a file; give a folder for the run')
    exists = os.path.isdir(name) and bool(os.listdir(name))
    if resume:
        checkpoints.checkpoint_paths(name, report=True)
        return run_settings.read_settings(name)
    if exists and not force:
        raise UserError(f'run directory {name} already exists: add --resume to continue '
                        'it, --force to start over, or choose another --name')
    if exists and not run_settings.is_run_directory(name):
        raise UserError(f'{name} is not a run directory (no settings.json or checkpoint): '
                        '--force only starts a run over')
    return None


def print_settings(settings, source):
    """Print the run's settings and the data as [i] lines."""
    for key in run_settings.SHOWN:
        print(f'[i] {key.replace("_", " "):<20s}{getattr(settings, key)}')
    print(f'[i] {source.num_training} training, {source.num_validation} validation samples, '
          f'{settings.num_classes} classes, image size {settings.image_size}')


def print_iou_table(confusion, class_names):
    """Print per-class IoU, with class names where the source has them."""
    print('[i] Per-class IoU on the validation set (- : absent from truth and prediction)')
    for index, value in enumerate(confusion.iou()):
        name = class_names[index] if class_names else f'class {index}'
        print(f'[i]   {index:3d} {name:<20s} {"-" if np.isnan(value) else f"{value:.4f}"}')
    print(f'[i]   mean IoU {confusion.mean_iou():.4f}')


def set_augmentation(source, settings):
    """Give the source the run's training augmentation; `UserError` if it asks for one and
    the source cannot augment."""
    wanted = run_settings.augmentation(settings)
    if not sources.set_optional(source, 'augmentation', wanted) and wanted.active:
        raise UserError(f'data source {settings.data_source!r} does not augment (it has no '
                        '`augmentation` attribute): train it without --scale-range, --crop '
                        'and --photometric')


def loss_class_weights(source, settings):
    """Return the run's class weights: None (none), the recorded ones of a resumed run, or
    median-frequency weights from the training labels, computed now."""
    if settings.class_weights == 'none':
        return None
    recorded = settings.class_weight_values
    if recorded and len(recorded) == settings.num_classes:
        return recorded
    return class_weights.balanced_class_weights(source, settings.data_source,
                                                settings.batch_size,
                                                sources.class_names(source))


def resolve_run(args):
    """Return (settings, loaded data source, checkpoint to resume from or None): the flags
    over the recorded run over the defaults, checked, with the devices, the precision and
    what the run records of its data source."""
    flags = settings_flags(args)
    name = run_settings.run_directory(args.name, args.data_source)
    recorded = check_run_dir(name, args.resume, args.force)
    check_resumed_optimizer(name, recorded, args.optimizer)
    settings = run_settings.resolve(dict(flags, name=name), recorded)
    if recorded and args.epochs is None:
        print(f'[i] --resume without --epochs: training on to the run\'s {settings.epochs} '
              'epochs (give --epochs to train more)')
    settings.check()
    settings.devices = devices.choose_devices(settings.devices)
    settings.precision = precision.resolve(settings.precision)
    source = sources.load_source_data(settings.data_source, settings.data_dir,
                                      settings.valid_fraction, settings.seed,
                                      train_splits=settings.train_splits)
    sources.warn_if_trained_on(source, settings.train_splits)
    settings = run_settings.with_source(settings, source)
    if recorded and recorded.num_classes != settings.num_classes:
        raise UserError(f'{name} was trained for {recorded.num_classes} classes, '
                        f'{settings.data_source} has {settings.num_classes}')
    set_augmentation(source, settings)
    resume_from = checkpoints.checkpoint_paths(name)[-1] if args.resume else None
    return settings, source, resume_from


def main(argv=None):
    """Parse, validate, build, train, report."""
    args = parse_args(argv)
    images.quiet_opencv()
    precision.report_gpus()
    settings, source, resume_from = resolve_run(args)
    print_settings(settings, source)
    settings.class_weight_values = loss_class_weights(source, settings)

    strategy, target = devices.make_strategy(settings.devices)
    graph = tf.Graph()
    session_config = devices.configure_session(precision.session_config(settings.precision),
                                               settings.devices, strategy)
    with graph.as_default(), tf.Session(target, graph=graph, config=session_config) as session:
        trainer = build_trainer(session, settings, strategy, resume_from)
        if resume_from is None:
            settings.weights_sha256 = pretrained_digest(settings)
        # Only now may an old run make way: bad input or a failed download have stopped by
        # here, and the old run comes back unless the new one saves a checkpoint.
        with (Replacement(settings.name) if args.force else contextlib.nullcontext()) \
                as replacement:
            confusion = train(session, trainer, source, settings,
                              replacement.commit if replacement else None)
    if confusion is not None:
        print_iou_table(confusion, settings.class_names)
    return 0


def pretrained_digest(settings):
    """Return the SHA-256 of the weight file a new run started from, or None."""
    path = weight_files.pretrained_file(settings.backbone, settings.vgg_dir,
                                        settings.vgg_weights or None)
    return weight_files.file_digest(path, 'sha256') if path and os.path.isfile(path) else None


def train(session, trainer, source, settings, on_checkpoint=None):
    """Record the settings, then train the epochs still to do; return the last validation
    confusion matrix (None when nothing was left to train)."""
    make_directory(settings.name, 'run directory')
    settings.widths = trainer.model.widths or settings.widths
    run_settings.write_settings(settings.name, settings)
    first_epoch = int(session.run(trainer.epochs_done)) + 1
    # Resumed epochs get their own shuffles and flips.
    sources.set_optional(source, 'epoch', first_epoch - 1)
    if first_epoch > settings.epochs:
        print(f'[i] {settings.name} has already trained {first_epoch - 1} epochs; raise '
              '--epochs to train more')
        return None
    with summaries.event_writer(settings.tensorboard_dir, session.graph) as writer, \
            epochs.StopRequest() as stop:
        return epochs.run_epochs(session, trainer, source, settings, writer, first_epoch,
                                 stop, on_checkpoint)


if __name__ == '__main__':
    run_script(main)
