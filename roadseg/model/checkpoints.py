"""A run directory's checkpoints: `tf.train.Saver` files with their metagraphs, listed in
the `checkpoint` state file. With settings.json (roadseg/train/run_settings.py) they are all
that infer.py, evaluation and --resume read.

A run directory refers to its own files relatively and is read wherever it now is: the state
file's entries are taken by name inside the run directory, so a copied or moved run never
reads, rotates or deletes the files of the folder it came from.
"""
import contextlib
import os
import re
import shutil

import tensorflow.compat.v1 as tf
from google.protobuf import text_format
from google.protobuf.message import DecodeError
from tensorflow.python.checkpoint.checkpoint_management import CheckpointState

from roadseg.core.errors import UserError
from roadseg.model.graph_check import DamagedMetagraph, read_trusted_metagraph

CHECKPOINT_PREFIX = 'model'
CHECKPOINTS_KEPT = 5
STATE_FILE = 'checkpoint'
# What restoring a damaged checkpoint raises: TF's own errors, protobuf's for a metagraph.
RESTORE_ERRORS = (tf.errors.OpError, ValueError, DecodeError, OSError, IndexError)


def make_saver():
    """Return the Saver of a run: the last CHECKPOINTS_KEPT checkpoints, listed relatively."""
    return tf.train.Saver(max_to_keep=CHECKPOINTS_KEPT, save_relative_paths=True)


def is_complete(prefix):
    """Return whether a checkpoint's index and metagraph files are there."""
    return os.path.isfile(prefix + '.index') and os.path.isfile(prefix + '.meta')


def step_of(prefix):
    """Return the global step in a checkpoint prefix `.../model-<step>` (-1 if none)."""
    match = re.search(r'-(\d+)$', prefix)
    return int(match.group(1)) if match else -1


def present_checkpoints(run_dir):
    """Return the complete checkpoints in `run_dir`, whatever the state file says, by step."""
    names = os.listdir(run_dir) if os.path.isdir(run_dir) else []
    prefixes = {os.path.join(run_dir, name[:-len('.index')]) for name in names
                if name.startswith(CHECKPOINT_PREFIX + '-') and name.endswith('.index')}
    return sorted((p for p in prefixes if is_complete(p)), key=step_of)


def listed_checkpoints(run_dir):
    """Return (the state file's checkpoints, taken by name inside `run_dir`, oldest first;
    why the state file cannot be used, or None)."""
    path = os.path.join(run_dir, STATE_FILE)
    if not os.path.exists(path):
        return [], None
    state = CheckpointState()
    try:
        with open(path) as handle:
            text_format.Merge(handle.read(), state)
    except (OSError, UnicodeDecodeError, text_format.ParseError) as error:
        return [], f'the checkpoint state file {path} is damaged ({error})'
    listed = list(state.all_model_checkpoint_paths) or (
        [state.model_checkpoint_path] if state.model_checkpoint_path else [])
    if not listed:
        return [], f'the checkpoint state file {path} is empty'
    return [os.path.join(run_dir, os.path.basename(p)) for p in listed], None


def checkpoint_paths(run_dir, report=False):
    """Return the run's checkpoint prefixes, oldest first; none at all is a `UserError`.

    A damaged or empty state file is recognised as such: the checkpoints present are used,
    and with `report` one `[i]` line says so and lists them.
    """
    listed, problem = listed_checkpoints(run_dir)
    paths = [p for p in listed if is_complete(p)]
    if problem:
        paths = present_checkpoints(run_dir)
        if report and paths:
            print(f'[i] {problem}; using the checkpoints present: '
                  f'{", ".join(os.path.basename(p) for p in paths)}')
    if not paths:
        why = f' ({problem})' if problem else ''
        raise UserError(f'{run_dir} holds no checkpoint{why}: train with main.py --name '
                        f'{run_dir} first')
    return paths


def select_checkpoint(run_dir, index=-1):
    """Return the checkpoint prefix at `index` among the run's checkpoints (-1: the latest)."""
    paths = checkpoint_paths(run_dir, report=True)
    if not -len(paths) <= index < len(paths):
        raise UserError(f'--checkpoint {index} is out of range: {run_dir} has '
                        f'{len(paths)} checkpoint(s), use 0..{len(paths) - 1} or '
                        f'-1..-{len(paths)}')
    return paths[index]


def checkpoint_problem(prefix):
    """Return (the damaged file, the error) of a checkpoint, or None when every file reads.

    Reads the metagraph, the index and every tensor: slow for a large model, so this runs
    only once restoring has failed.
    """
    # Any failure counts: this only diagnoses, and TF's reader raises IndexError too.
    try:
        with open(prefix + '.meta', 'rb') as handle:
            tf.MetaGraphDef().ParseFromString(handle.read())
    except Exception as error:   # noqa: BLE001
        return prefix + '.meta', error
    try:
        reader = tf.train.load_checkpoint(prefix)
    except Exception as error:   # noqa: BLE001
        return prefix + '.index', error
    try:
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except Exception as error:   # noqa: BLE001
        return prefix + '.data-00000-of-00001', error
    return None


def describe_damage(prefix, error):
    """Return one line on a checkpoint that failed to restore: the damaged file and the
    newest intact checkpoint of the run, with the --checkpoint value that selects it."""
    problem = checkpoint_problem(prefix)
    if problem is None:
        return f'cannot restore {prefix}: {first_line(error)}'
    damaged, why = problem
    run_dir = os.path.dirname(prefix) or '.'
    try:
        paths = checkpoint_paths(run_dir)
    except UserError:
        paths = []
    intact = next(((i, p) for i, p in reversed(list(enumerate(paths)))
                   if p != prefix and checkpoint_problem(p) is None), None)
    newest = (f'the newest intact checkpoint is {os.path.basename(intact[1])} '
              f'(--checkpoint {intact[0]})' if intact else 'no other checkpoint is intact')
    return (f'checkpoint {os.path.basename(prefix)} is damaged: {damaged} cannot be read '
            f'({first_line(why)}); {newest}. Nothing was deleted')


def first_line(error):
    """Return the first line of an error's message (TF's run on for pages)."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def read_metagraph(prefix):
    """Return the checkpoint's metagraph, checked by graph_check before anything of it runs;
    a damaged `.meta` is one `UserError` line naming the newest intact checkpoint."""
    try:
        return read_trusted_metagraph(prefix + '.meta')
    except DamagedMetagraph as error:
        raise UserError(describe_damage(prefix, error)) from None


@contextlib.contextmanager
def restoring(prefix):
    """Within `with`, a checkpoint that cannot be restored becomes one `UserError` line."""
    try:
        yield
    except RESTORE_ERRORS as error:
        raise UserError(describe_damage(prefix, error)) from None


def save_checkpoint(session, saver, run_dir):
    """Save a checkpoint (with metagraph) at the global step; return its prefix.

    A failed save (a full disk, say) is one `UserError` line; the files this save began are
    removed and the earlier checkpoints stay as they were.
    """
    step = tf.train.global_step(session, tf.train.get_global_step(session.graph))
    prefix = os.path.join(run_dir, f'{CHECKPOINT_PREFIX}-{step}')
    if not os.path.isdir(run_dir):
        raise UserError(f'cannot save the checkpoint {prefix}: the run directory {run_dir} '
                        'is gone (deleted or moved while the run trained)')
    before = set(os.listdir(run_dir))
    try:
        return saver.save(session, os.path.join(run_dir, CHECKPOINT_PREFIX), global_step=step)
    except RESTORE_ERRORS as error:
        for name in set(os.listdir(run_dir)) - before:
            path = os.path.join(run_dir, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
        raise UserError(f'cannot save the checkpoint {prefix}: {first_line(error)}. The '
                        f'earlier checkpoints in {run_dir} are kept') from None
