"""The run directory: checkpoints with metagraphs, and the run's settings as JSON.

A run directory holds everything a later script needs: infer.py, evaluation and --resume
read nothing but it.
"""
import json
import os

import tensorflow.compat.v1 as tf

import utils

SETTINGS_FILE = 'settings.json'
CHECKPOINT_PREFIX = 'model'


def source_settings(source):
    """Return the JSON-ready description of a loaded data source the run depends on."""
    colors = {str(k): [int(c) for c in v] for k, v in sorted(source.label_colors.items())}
    settings = {'image_size': [int(v) for v in source.image_size],
                'num_classes': int(source.num_classes),
                'label_colors': colors,
                'ignores_pixels': bool(getattr(source, 'ignores_pixels', False))}
    for optional in ('class_names', 'label_ids'):
        if getattr(source, optional, None) is not None:
            settings[optional] = list(getattr(source, optional))
    return settings


def label_colors(settings):
    """Return {class index: BGR tuple} from run settings (JSON keys are strings)."""
    return {int(k): tuple(v) for k, v in settings['label_colors'].items()}


def write_json(path, value, sort_keys=False):
    """Write `value` as JSON atomically: a temporary file renamed into place."""
    with open(path + '.tmp', 'w') as handle:
        json.dump(value, handle, indent=2, sort_keys=sort_keys)
    os.replace(path + '.tmp', path)


def write_settings(run_dir, settings):
    """Write the run's settings JSON atomically."""
    write_json(os.path.join(run_dir, SETTINGS_FILE), settings, sort_keys=True)


def read_settings(run_dir):
    """Return the run's settings; a missing run or settings file is a `UserError`."""
    if not os.path.isdir(run_dir):
        raise utils.UserError(f'no run directory {run_dir}: train one with main.py --name '
                              f'{run_dir}')
    path = os.path.join(run_dir, SETTINGS_FILE)
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError) as error:
        raise utils.UserError(f'cannot read the run settings {path} ({error}): is {run_dir} '
                              'a run directory written by main.py?') from None


def checkpoint_paths(run_dir):
    """Return the run's checkpoint prefixes, oldest first; none at all is a `UserError`."""
    state = tf.train.get_checkpoint_state(run_dir)   # relative paths come joined to run_dir
    paths = list(state.all_model_checkpoint_paths) if state else []
    paths = [p for p in paths if os.path.isfile(p + '.index') and os.path.isfile(p + '.meta')]
    if not paths:
        raise utils.UserError(f'{run_dir} holds no checkpoint: train with main.py --name '
                              f'{run_dir} first')
    return paths


def select_checkpoint(run_dir, index=-1):
    """Return the checkpoint prefix at `index` among the run's checkpoints (-1: the latest)."""
    paths = checkpoint_paths(run_dir)
    if not -len(paths) <= index < len(paths):
        raise utils.UserError(f'--checkpoint {index} is out of range: {run_dir} has '
                              f'{len(paths)} checkpoint(s), use 0..{len(paths) - 1} or '
                              f'-1..-{len(paths)}')
    return paths[index]
