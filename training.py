"""The training loop: epochs of Adam steps, validation with one confusion matrix,
TensorBoard summaries, checkpoints, and stopping cleanly on Ctrl-C or a non-finite loss."""
import signal
import time

import numpy as np
import tensorflow.compat.v1 as tf
from tqdm import tqdm

import drawing
import metrics
import runs
import summaries
from errors import UserError
from labels import labels_to_class_map

IMAGE_INTERVAL = 5        # epochs between validation images in TensorBoard
IMAGES_SHOWN = 3


class NonFiniteLoss(Exception):
    """The training loss became NaN or infinite."""


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


def train_epoch(session, trainer, source, settings, epoch, stop):
    """Train one epoch (or until a stop request); return the mean training loss."""
    total, seen = 0.0, 0
    feed = {trainer.keep_prob: settings.keep_prob,
            trainer.learning_rate: settings.learning_rate}
    with tqdm(total=source.num_training, unit='img', desc=f'epoch {epoch}', leave=False) as bar:
        for images, labels in source.train_generator(settings.batch_size):
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


def validate(session, trainer, source, num_classes, batch_size):
    """Return (loss, confusion matrix, a few (image, truth, prediction)) on the valid split."""
    confusion = metrics.ConfusionMatrix(num_classes)
    loss_sum, pixels, shown = 0.0, 0, []
    model = trainer.model
    with tqdm(total=source.num_validation, unit='img', desc='validation', leave=False) as bar:
        for images, labels in source.valid_generator(batch_size):
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
    return runs.save_checkpoint(session, saver, run_dir)


def write_validation_images(writer, epoch, shown, label_colors):
    """Write ground truth above prediction, blended on validation images, to TensorBoard."""
    def blend(image, class_map):
        return drawing.blend_labels(image, class_map, label_colors)
    images = [summaries.truth_over_prediction(image, truth, prediction, blend)
              for image, truth, prediction in shown]
    summaries.write_images(writer, epoch, 'valid/truth_over_prediction', images)


def run_epochs(session, trainer, source, settings, writer, first_epoch, stop):
    """Train and validate epochs; return the last confusion matrix (None if none ran)."""
    saver = tf.train.Saver(max_to_keep=runs.CHECKPOINTS_KEPT)
    if first_epoch > 1:     # resumed: keep listing (and rotating) the earlier checkpoints
        saver.recover_last_checkpoints(runs.checkpoint_paths(settings.name))
    confusion, done = None, first_epoch - 1
    try:
        for epoch in range(first_epoch, settings.epochs + 1):
            confusion = run_epoch(session, trainer, source, settings, writer, epoch, stop,
                                  first_epoch) or confusion
            if stop.requested:
                break
            done = epoch
            if done % settings.checkpoint_interval == 0 or done == settings.epochs:
                save_checkpoint(session, saver, trainer, settings.name, done)
    except NonFiniteLoss as error:
        latest = tf.train.latest_checkpoint(settings.name) or 'none yet'
        raise UserError(f'{error}: stopped without saving; the checkpoints in '
                        f'{settings.name} are kept (latest: {latest}). Try a lower '
                        '--learning-rate') from None
    if stop.requested:
        path = save_checkpoint(session, saver, trainer, settings.name, done)
        print(f'[i] Interrupted after {done} complete epoch(s): saved {path}. Continue with: '
              f'python main.py --name {settings.name} --resume')
    return confusion


def run_epoch(session, trainer, source, settings, writer, epoch, stop, first_epoch):
    """Train one epoch, validate, write summaries and print its line; return the
    validation confusion matrix (None without validation samples or when stopped)."""
    started = time.time()
    train_loss = train_epoch(session, trainer, source, settings, epoch, stop)
    if stop.requested:
        return None
    values = {'train/loss': train_loss}
    line = f'[i] epoch {epoch}/{settings.epochs}: train loss {train_loss:.4f}'
    confusion = None
    if source.num_validation:
        valid_loss, confusion, shown = validate(session, trainer, source,
                                                settings.num_classes, settings.batch_size)
        values.update({'valid/loss': valid_loss, 'valid/mean_iou': confusion.mean_iou(),
                       'valid/pixel_accuracy': confusion.pixel_accuracy()})
        line += (f', valid loss {valid_loss:.4f}, pixel accuracy '
                 f'{confusion.pixel_accuracy():.4f}, mIoU {confusion.mean_iou():.4f}')
        if epoch % IMAGE_INTERVAL == 0 or epoch in (first_epoch, settings.epochs):
            write_validation_images(writer, epoch, shown, settings.label_colors)
    summaries.write_scalars(writer, epoch, values)
    writer.flush()
    print(f'{line} ({time.time() - started:.0f} s)', flush=True)
    return confusion
