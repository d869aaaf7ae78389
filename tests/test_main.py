"""Training with main.py end to end on tiny synthetic data and on test-written sources."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from conftest import ROOT
from scripts import TINY, last_line, run_script, script_command, write_tiny_synthetic

TEST_SOURCES = os.path.join(ROOT, 'tests', 'sources')
OFFLINE_MAIN = os.path.join(ROOT, 'tests', 'programs', 'main_offline.py')


def main_command(*args):
    """Return the command line that runs main.py with `args`."""
    return script_command('main.py', *args)


def run_main(*args, env=None):
    """Run main.py; return the completed process (text output)."""
    return run_script('main.py', *args, env=env)


def read_events(directory):
    """Return ({tag: {step: value}}, {image tag: steps}, whether a graph was written)."""
    scalars, images, graph = {}, {}, False
    for path in glob.glob(os.path.join(directory, 'events.out.tfevents.*')):
        for event in tf.train.summary_iterator(path):
            graph = graph or event.HasField('graph_def')
            for value in event.summary.value:
                if value.HasField('image'):
                    assert value.image.encoded_image_string.startswith(b'\x89PNG')
                    images.setdefault(value.tag, set()).add(event.step)
                else:
                    scalars.setdefault(value.tag, {})[event.step] = value.simple_value
    return scalars, images, graph


def checkpoint_steps(run_dir):
    """Return the global steps of the run's checkpoints listed in its state file."""
    state = tf.train.get_checkpoint_state(run_dir)
    return [int(p.rsplit('-', 1)[1]) for p in state.all_model_checkpoint_paths]


def epochs_done(prefix):
    """Return the completed-epoch count stored in a checkpoint."""
    return int(tf.train.load_variable(prefix, 'epochs_done'))


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A two-epoch run on tiny synthetic data: (run directory, data directory, process)."""
    base = tmp_path_factory.mktemp('trained')
    data_dir = write_tiny_synthetic(base / 'data')
    run_dir = str(base / 'run')
    result = run_main(*TINY, '--data-dir', data_dir, '--name', run_dir, '--epochs', '2',
                      '--checkpoint-interval', '1')
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir, data_dir, result


def test_two_epochs_write_checkpoints_settings_and_events(trained):
    run_dir, data_dir, result = trained
    assert '[i] epoch 1/2' in result.stdout and '[i] epoch 2/2' in result.stdout
    assert 'mIoU' in result.stdout and 'Per-class IoU' in result.stdout
    for name in ('sky', 'road', 'car'):       # the IoU table names the source's classes
        assert f' {name} ' in result.stdout
    state = tf.train.get_checkpoint_state(run_dir)
    assert len(state.all_model_checkpoint_paths) == 2
    for prefix in state.all_model_checkpoint_paths:
        for suffix in ('.index', '.meta', '.data-00000-of-00001'):
            assert os.path.isfile(os.path.join(run_dir, os.path.basename(prefix) + suffix))
    latest = tf.train.latest_checkpoint(run_dir)
    assert epochs_done(latest) == 2
    # 12 samples, 10% validation -> 11 training samples, 3 steps of up to 4 per epoch.
    assert checkpoint_steps(run_dir) == [3, 6]
    with open(os.path.join(run_dir, 'settings.json')) as handle:
        settings = json.load(handle)
    assert settings['data_source'] == 'synthetic' and settings['data_dir'] == data_dir
    assert settings['image_size'] == [64, 32] and settings['num_classes'] == 7
    assert settings['class_names'][:2] == ['sky', 'road']
    assert settings['label_colors']['1'] == [128, 64, 128]
    assert settings['backbone'] == 'scratch' and settings['vgg_width'] == 0.0625
    assert settings['precision'] == 'fp32'
    scalars, images, graph = read_events(os.path.join(run_dir, 'tensorboard'))
    for tag in ('train/loss', 'valid/loss', 'valid/mean_iou', 'valid/pixel_accuracy'):
        assert sorted(scalars[tag]) == [1, 2], tag
    assert all(0 <= v <= 1 for v in scalars['valid/mean_iou'].values())
    assert images and all(1 in steps for steps in images.values())
    assert graph


def test_resume_runs_only_the_next_epoch_and_steps_go_on(trained, tmp_path):
    run_dir, data_dir, _ = trained
    refused = run_main(*TINY, '--data-dir', data_dir, '--name', run_dir, '--epochs', '3')
    assert refused.returncode == 1
    assert last_line(refused.stderr).startswith(f'[!] run directory {run_dir} already exists')
    assert 'Traceback' not in refused.stderr
    resumed = run_main('--name', run_dir, '--resume', '--epochs', '3')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert '[i] epoch 3/3' in resumed.stdout
    assert 'epoch 1/' not in resumed.stdout and 'epoch 2/' not in resumed.stdout
    assert checkpoint_steps(run_dir) == [3, 6, 9]
    assert epochs_done(tf.train.latest_checkpoint(run_dir)) == 3
    scalars, _, _ = read_events(os.path.join(run_dir, 'tensorboard'))
    assert sorted(scalars['valid/mean_iou']) == [1, 2, 3]


def test_resume_without_epochs_goes_on_to_the_recorded_count(trained, tmp_path):
    run_dir = str(tmp_path / 'run')
    shutil.copytree(trained[0], run_dir)
    done = epochs_done(tf.train.latest_checkpoint(run_dir))   # other tests may resume it
    settings_path = os.path.join(run_dir, 'settings.json')
    with open(settings_path) as handle:
        settings = json.load(handle)
    settings['epochs'] = total = done + 1   # as a run started for one more and stopped
    with open(settings_path, 'w') as handle:
        json.dump(settings, handle)
    resumed = run_main('--name', run_dir, '--resume')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert (f"[i] --resume without --epochs: training on to the run's {total} epochs"
            in resumed.stdout)
    assert f'[i] epoch {total}/{total}' in resumed.stdout
    assert f'epoch {total + 1}/' not in resumed.stdout
    assert epochs_done(tf.train.latest_checkpoint(run_dir)) == total
    again = run_main('--name', run_dir, '--resume')
    assert again.returncode == 0
    assert f'[i] {run_dir} has already trained {total} epochs' in again.stdout


def test_force_starts_over(tmp_path):
    data_dir = write_tiny_synthetic(tmp_path / 'data')
    run_dir = str(tmp_path / 'run')
    args = [*TINY, '--data-dir', data_dir, '--name', run_dir, '--epochs', '1']
    assert run_main(*args).returncode == 0
    forced = run_main(*args, '--force')
    assert forced.returncode == 0, forced.stderr[-2000:]
    assert checkpoint_steps(run_dir) == [3]
    assert len(glob.glob(os.path.join(run_dir, 'tensorboard', 'events.*'))) == 1


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM])
def test_a_stop_signal_saves_a_checkpoint_and_resume_continues(tmp_path, signum):
    data_dir = write_tiny_synthetic(tmp_path / 'data', num_samples=40)
    run_dir = str(tmp_path / 'run')
    process = subprocess.Popen(
        main_command(*TINY, '--data-dir', data_dir, '--name', run_dir, '--epochs', '500',
                     '--batch-size', '1', '--checkpoint-interval', '1000'),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    for line in process.stdout:                  # wait for the first epoch to finish
        if line.startswith('[i] epoch 1/500'):
            break
    time.sleep(0.5)                              # now inside epoch 2
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr[-3000:]
    assert 'Interrupted after' in stdout and f'--name {run_dir} --resume' in stdout
    latest = tf.train.latest_checkpoint(run_dir)
    assert latest is not None
    done = epochs_done(latest)
    assert done >= 1
    resumed = run_main('--name', run_dir, '--resume', '--epochs', str(done + 1))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f'[i] epoch {done + 1}/{done + 1}' in resumed.stdout
    assert f'epoch {done}/' not in resumed.stdout
    assert epochs_done(tf.train.latest_checkpoint(run_dir)) == done + 1


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    env = dict(os.environ, PYTHONPATH=TEST_SOURCES)
    run_dir = str(tmp_path / 'run')
    result = run_main('--data-source', 'nantest', '--data-dir', str(tmp_path), '--name', run_dir,
                      '--vgg-init', 'scratch', '--vgg-width', '0.0625', '--epochs', '5',
                      '--checkpoint-interval', '1', env=env)
    assert result.returncode == 1
    assert '[i] epoch 1/5' in result.stdout          # a bare-contract source trains
    line = last_line(result.stderr)
    assert line.startswith('[!] the training loss became nan in epoch 2')
    assert 'Traceback' not in result.stderr
    latest = tf.train.latest_checkpoint(run_dir)
    assert latest in line and epochs_done(latest) == 1
    weights = tf.train.load_variable(latest, 'conv1_1/weights')
    assert np.isfinite(weights).all()


@pytest.mark.parametrize('args,message', [
    (['--data-source', 'kitti', '--data-dir', '/nonexistent/kitti'], '/nonexistent/kitti'),
    (['--data-source', 'nosuchsource'], 'nosuchsource'),
])
def test_bad_input_gives_one_clear_line(tmp_path, args, message):
    result = run_main(*args, '--name', str(tmp_path / 'run'), '--vgg-init', 'scratch')
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    line = last_line(result.stderr)
    assert line.startswith('[!] ') and message in line


def test_unreachable_vgg_download_gives_one_clear_line(tmp_path):
    data_dir = write_tiny_synthetic(tmp_path / 'data')
    vgg_dir = tmp_path / 'vgg'
    result = subprocess.run(
        [sys.executable, OFFLINE_MAIN, '--data-source', 'synthetic', '--data-dir', data_dir,
         '--name', str(tmp_path / 'run'), '--vgg-dir', str(vgg_dir)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=ROOT))
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    line = last_line(result.stderr)
    assert line.startswith('[!] cannot download https://s3-us-west-1.amazonaws.com/')
    assert str(vgg_dir / 'vgg.zip') in line and '--vgg-init scratch' in line


def test_mixed_precision_trains_and_keeps_fp32_checkpoints(tmp_path):
    from roadseg.model import precision
    data_dir = write_tiny_synthetic(tmp_path / 'data')
    run_dir = str(tmp_path / 'run')
    result = run_main(*TINY, '--data-dir', data_dir, '--name', run_dir, '--epochs', '1',
                      '--precision', 'bf16')
    assert result.returncode == 0, result.stderr[-3000:]
    expected = precision.resolve('bf16')
    assert json.load(open(os.path.join(run_dir, 'settings.json')))['precision'] == expected
    assert f'[i] precision           {expected}' in result.stdout
    checkpoint = tf.train.latest_checkpoint(run_dir)
    weights = tf.train.load_variable(checkpoint, 'conv1_1/weights')
    assert weights.dtype == np.float32 and np.isfinite(weights).all()


def test_force_with_bad_input_keeps_the_old_run(tmp_path):
    data_dir = write_tiny_synthetic(tmp_path / 'data')
    run_dir = str(tmp_path / 'run')
    assert run_main(*TINY, '--data-dir', data_dir, '--name', run_dir, '--epochs', '1'
                    ).returncode == 0
    before = sorted(os.listdir(run_dir))
    failed = run_main('--data-source', 'nosuchsource', '--name', run_dir, '--force',
                      '--vgg-init', 'scratch')
    assert failed.returncode == 1 and 'nosuchsource' in last_line(failed.stderr)
    assert sorted(os.listdir(run_dir)) == before
    assert tf.train.latest_checkpoint(run_dir) is not None


def test_a_time_budget_too_short_for_two_epochs_trains_one_and_records_it(tmp_path):
    data_dir = write_tiny_synthetic(tmp_path / 'data', num_samples=8)
    run_dir = str(tmp_path / 'run')
    result = run_main(*TINY, '--data-dir', data_dir, '--name', run_dir, '--epochs', '4',
                      '--time-budget', '0.001', '--lr-schedule', 'poly')
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r'\[i\] Time budget 0\.001 min: epochs take \d+ s here, so the run '
                     r'trains 1 epoch\(s\)', result.stdout)
    assert '[i] epoch 1/4' in result.stdout and 'epoch 2/' not in result.stdout
    assert epochs_done(tf.train.latest_checkpoint(run_dir)) == 1
    with open(os.path.join(run_dir, 'settings.json')) as handle:
        settings = json.load(handle)
    assert (settings['epochs'], settings['time_budget']) == (1, 0.001)
    resumed = run_main('--name', run_dir, '--resume')
    assert resumed.returncode == 0
    assert f'[i] {run_dir} has already trained 1 epochs' in resumed.stdout
