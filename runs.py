"""The run directory's checkpoints: `tf.train.Saver` files with their metagraphs, listed in
the `checkpoint` state file. With settings.json (run_settings.py) they are all that infer.py,
evaluation and --resume read.
"""
import os

import tensorflow.compat.v1 as tf

from errors import UserError
from run_settings import SETTINGS_FILE

CHECKPOINT_PREFIX = 'model'
CHECKPOINTS_KEPT = 5


def checkpoint_paths(run_dir):
    """Return the run's checkpoint prefixes, oldest first; none at all is a `UserError`."""
    state = tf.train.get_checkpoint_state(run_dir)   # relative paths come joined to run_dir
    paths = list(state.all_model_checkpoint_paths) if state else []
    paths = [p for p in paths if os.path.isfile(p + '.index') and os.path.isfile(p + '.meta')]
    if not paths:
        raise UserError(f'{run_dir} holds no checkpoint: train with main.py --name '
                        f'{run_dir} first')
    return paths


def select_checkpoint(run_dir, index=-1):
    """Return the checkpoint prefix at `index` among the run's checkpoints (-1: the latest)."""
    paths = checkpoint_paths(run_dir)
    if not -len(paths) <= index < len(paths):
        raise UserError(f'--checkpoint {index} is out of range: {run_dir} has '
                        f'{len(paths)} checkpoint(s), use 0..{len(paths) - 1} or '
                        f'-1..-{len(paths)}')
    return paths[index]


def is_run_directory(path):
    """Return whether `path` holds a run's settings.json or checkpoint state file."""
    return any(os.path.exists(os.path.join(path, name))
               for name in (SETTINGS_FILE, 'checkpoint'))


def save_checkpoint(session, saver, run_dir):
    """Save a checkpoint (with metagraph) at the global step; return its prefix."""
    step = tf.train.global_step(session, tf.train.get_global_step(session.graph))
    return saver.save(session, os.path.join(run_dir, CHECKPOINT_PREFIX), global_step=step)
