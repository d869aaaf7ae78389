"""The training loop: epochs of optimizer steps at the schedule's learning rates, validation
with one confusion matrix, TensorBoard summaries, checkpoints, and stopping cleanly on Ctrl-C
or a non-finite loss."""
import signal
import time

import numpy as np
import tensorflow.compat.v1 as tf
from tqdm import tqdm

from roadseg.core.errors import UserError
from roadseg.data import drawing, sources
from roadseg.data.labels import labels_to_class_map
from roadseg.model import checkpoints
from roadseg.score import metrics
from roadseg.train import run_settings, summaries
from roadseg.train.schedules import run_schedule
from roadseg.train.time_budget import TimeBudget

IMAGE_INTERVAL = 5        # epochs between validation images in TensorBoard
IMAGES_SHOWN = 3


class NonFiniteLoss(Exception):
    """The training loss became NaN or infinite."""


class StopRequest:
    """Within `with`, turns the first Ctrl-C or SIGTERM (what `timeout`, cluster schedulers
    and Kubernetes send before killing) into a request to stop after the current step."""

    SIGNALS = {signal.SIGINT: 'Ctrl-C', signal.SIGTERM: 'SIGTERM'}

    def __init__(self):
        self.requested = False
        self._previous = {}

    def __enter__(self):
        self._previous = {number: signal.signal(number, self._handle) for number in self.SIGNALS}
        return self

    def __exit__(self, *exc):
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _handle(self, signum, frame):
        if self.requested:          # a second signal stops at once
            raise KeyboardInterrupt
        self.requested = True
        tqdm.write(f'[i] {self.SIGNALS[signum]}: stopping after this step and saving a '
                   'checkpoint (a second Ctrl-C or SIGTERM aborts without saving)')


def train_epoch(session, trainer, source, settings, epoch, stop, schedule, writer):
    """Train one epoch (or until a stop request); return (mean training loss, whether every
    step of the epoch ran).

    Each step's learning rate comes from `schedule` at the global step, and is written to
    TensorBoard as train/learning_rate at that step.
    """
    total, seen = 0.0, 0
    feed = {trainer.keep_prob: settings.keep_prob}
    if trainer.training is not None:      # batch normalisation: by the batch, and learn
        feed[trainer.training] = True
    labelled, completed = 0, False
    step = int(session.run(trainer.global_step))
    batches = sources.split_batches(source, settings.data_source, 'training',
                                    settings.batch_size)
    with tqdm(total=source.num_training, unit='img', desc=f'epoch {epoch}', leave=False) as bar:
        for images, labels in batches:
            labelled += int(np.count_nonzero(labels))
            rate = schedule.rate(step)
            feed.update({trainer.images: images, trainer.labels: labels,
                         trainer.learning_rate: rate})
            loss = session.run(trainer.step_loss, feed)
            if not np.isfinite(loss):
                raise NonFiniteLoss(f'the training loss became {loss} in epoch {epoch}')
            summaries.write_scalars(writer, step, {'train/learning_rate': rate})
            step += 1
            total, seen = total + loss * len(images), seen + len(images)
            bar.update(len(images))
            bar.set_postfix(loss=f'{total / seen:.4f}')
            if stop.requested:
                break
        else:
            completed = True
    if seen and not labelled:
        raise UserError(f'no pixel of the {settings.data_source} training split is labelled: '
                        'every label row is all zero ("don\'t care"). Check the label files '
                        'with check_data_source.py')
    return total / max(seen, 1), completed


def validate(session, trainer, source, name, num_classes, batch_size):
    """Return (loss, confusion matrix, a few (image, truth, prediction)) on the valid split."""
    confusion = metrics.ConfusionMatrix(num_classes)
    loss_sum, pixels, shown = 0.0, 0, []
    model = trainer.model
    with tqdm(total=source.num_validation, unit='img', desc='validation', leave=False) as bar:
        for images, labels in sources.split_batches(source, name, 'validation', batch_size):
            loss, classes = session.run([trainer.valid_loss, model.classes],
                                        {model.image_input: images, trainer.valid_labels: labels,
                                         model.keep_prob: 1.0})
            truth = labels_to_class_map(labels)
            confusion.update(truth, classes)
            cared = int((truth >= 0).sum())
            loss_sum, pixels = loss_sum + loss * cared, pixels + cared
            shown += list(zip(images, truth, classes))[:IMAGES_SHOWN - len(shown)]
            bar.update(len(images))
    return loss_sum / max(pixels, 1), confusion, shown


def save_checkpoint(session, saver, trainer, run_dir, epochs_done):
    """Save a checkpoint (with metagraph) that records `epochs_done`; return its prefix."""
    session.run(trainer.set_epochs, {trainer.epochs_value: epochs_done})
    return checkpoints.save_checkpoint(session, saver, run_dir)


def write_validation_images(writer, epoch, shown, label_colors):
    """Write ground truth above prediction, blended on validation images, to TensorBoard."""
    def blend(image, class_map):
        return drawing.blend_labels(image, class_map, label_colors)
    images = [summaries.truth_over_prediction(image, truth, prediction, blend)
              for image, truth, prediction in shown]
    summaries.write_images(writer, epoch, 'valid/truth_over_prediction', images)


def run_epochs(session, trainer, source, settings, writer, first_epoch, stop,
               on_checkpoint=None):
    """Train and validate epochs; return the last confusion matrix (None if none ran).

    `on_checkpoint()` is called after every checkpoint saved.
    """
    def save(done):
        path = save_checkpoint(session, saver, trainer, settings.name, done)
        if on_checkpoint:
            on_checkpoint()
        return path
    saver = checkpoints.make_saver()
    schedule = settings_schedule(settings, source.num_training)
    if first_epoch > 1:     # resumed: keep listing (and rotating) the earlier checkpoints
        saver.recover_last_checkpoints(checkpoints.checkpoint_paths(settings.name))
    # A resumed run trains on to the epochs its budget fitted when it started.
    budget = (TimeBudget(settings.time_budget).start()
              if settings.time_budget and first_epoch == 1 else None)
    confusion, done, epoch = None, first_epoch - 1, first_epoch
    try:
        while epoch <= settings.epochs:
            epoch_confusion, completed = run_epoch(session, trainer, source, settings, writer,
                                                   epoch, stop, first_epoch, schedule)
            confusion = epoch_confusion or confusion
            # A stop request after an epoch's last step leaves that epoch complete: counting
            # it keeps a resume from training it again.
            done = epoch if completed else done
            if stop.requested:
                break
            if budget:
                schedule = fit_to_budget(budget, settings, done, source.num_training) \
                    or schedule
            if done % settings.checkpoint_interval == 0 or done == settings.epochs:
                save(done)
            epoch += 1
    except NonFiniteLoss as error:
        latest = tf.train.latest_checkpoint(settings.name) or 'none yet'
        raise UserError(f'{error}: stopped without saving; the checkpoints in '
                        f'{settings.name} are kept (latest: {latest}). Try a lower '
                        '--learning-rate') from None
    if stop.requested:
        path = save(done)
        print(f'[i] Interrupted after {done} complete epoch(s): saved {path}. Continue with: '
              f'python main.py --name {settings.name} --resume')
    return confusion


def settings_schedule(settings, num_training):
    """Return the learning-rate Schedule of the run's settings over `num_training` samples."""
    return run_schedule(settings.learning_rate, settings.lr_schedule, settings.warmup_epochs,
                        settings.epochs, num_training, settings.batch_size)


def fit_to_budget(budget, settings, done, num_training):
    """Lower `settings.epochs` to what `budget` still holds after `done` epochs, record it
    in settings.json and return the refitted schedule; None when the count stands."""
    elapsed = budget.elapsed()     # one reading: the count and its line agree
    fitted = budget.epochs_that_fit(elapsed, done, settings.epochs)
    if fitted == settings.epochs:
        return None
    settings.epochs = fitted
    settings.warmup_epochs = min(settings.warmup_epochs, fitted)
    run_settings.write_settings(settings.name, settings)
    print(budget.describe(elapsed, done, fitted), flush=True)
    return settings_schedule(settings, num_training)


def run_epoch(session, trainer, source, settings, writer, epoch, stop, first_epoch, schedule):
    """Train one epoch, validate, write summaries and print its line; return (the
    validation confusion matrix or None, whether every training step of the epoch ran).

    A stop request skips validation (and, if it came mid-epoch, the rest of the epoch)."""
    started = time.time()
    train_loss, completed = train_epoch(session, trainer, source, settings, epoch, stop,
                                        schedule, writer)
    if stop.requested:
        return None, completed
    values = {'train/loss': train_loss}
    line = f'[i] epoch {epoch}/{settings.epochs}: train loss {train_loss:.4f}'
    confusion = None
    if source.num_validation:
        valid_loss, confusion, shown = validate(session, trainer, source, settings.data_source,
                                                settings.num_classes, settings.batch_size)
        values.update({'valid/loss': valid_loss, 'valid/mean_iou': confusion.mean_iou(),
                       'valid/pixel_accuracy': confusion.pixel_accuracy()})
        line += (f', valid loss {valid_loss:.4f}, pixel accuracy '
                 f'{confusion.pixel_accuracy():.4f}, mIoU {confusion.mean_iou():.4f}')
        if epoch % IMAGE_INTERVAL == 0 or epoch in (first_epoch, settings.epochs):
            write_validation_images(writer, epoch, shown, settings.label_colors)
    summaries.write_scalars(writer, epoch, values)
    summaries.flush(writer, settings.tensorboard_dir)
    print(f'{line} ({time.time() - started:.0f} s)', flush=True)
    return confusion, completed
