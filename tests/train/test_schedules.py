"""Learning-rate schedules (schedules.py): the formula, and main.py feeding it at every step,
across a stop and a resume, as TensorBoard records it."""
import os
import re
import signal
import subprocess

import pytest
import tensorflow.compat.v1 as tf
from test_main import read_events

from conftest import ROOT
from roadseg.train.schedules import Schedule, run_schedule, steps_per_epoch
from scripts import TINY, run_script, script_command, write_tiny_synthetic


def test_poly_falls_as_the_formula_and_warm_up_ramps_linearly():
    schedule = Schedule(0.01, 100, 'poly', warmup_steps=10)
    assert schedule.rate(0) == pytest.approx(0.01 * (1 / 10))
    assert schedule.rate(4) == pytest.approx(0.01 * (1 - 4 / 100) ** 0.9 * 5 / 10)
    assert schedule.rate(10) == pytest.approx(0.01 * (1 - 10 / 100) ** 0.9)
    assert schedule.rate(99) == pytest.approx(0.01 * (1 / 100) ** 0.9)
    assert schedule.rate(100) == schedule.rate(150) == 0
    constant = Schedule(0.01, 100, 'constant', warmup_steps=4)
    assert [constant.rate(s) for s in (0, 1, 3, 4, 99)] == pytest.approx(
        [0.0025, 0.005, 0.01, 0.01, 0.01])


def test_a_run_schedule_counts_steps_over_every_epoch():
    assert steps_per_epoch(11, 4) == 3 and steps_per_epoch(12, 4) == 3
    schedule = run_schedule(1e-3, 'poly', 1.5, 10, 11, 4)
    assert (schedule.total_steps, schedule.warmup_steps) == (30, 4)


def expected_rate(step, total, warmup, base=1e-3):
    """The rate main.py should feed at global step `step`: poly with warm-up."""
    rate = base * (1 - min(step, total) / total) ** 0.9
    return rate * (step + 1) / warmup if step < warmup else rate


def test_main_feeds_the_poly_schedule_at_every_step_across_a_resume(tmp_path):
    data_dir = write_tiny_synthetic(tmp_path / 'data', num_samples=40)
    run_dir = str(tmp_path / 'run')
    epochs = 4      # slack: on a busy machine the signal may land an epoch late
    args = [*TINY, '--batch-size', '2', '--data-dir', data_dir, '--name', run_dir,
            '--epochs', str(epochs), '--learning-rate', '1e-3', '--lr-schedule', 'poly',
            '--warmup-epochs', '1', '--checkpoint-interval', '10']
    process = subprocess.Popen(script_command('main.py', *args), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               env=dict(os.environ, PYTHONUNBUFFERED='1'))
    for line in process.stdout:                  # stop inside the second epoch (or so)
        if line.startswith(f'[i] epoch 1/{epochs}'):
            break
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr[-2000:]
    assert re.search('Interrupted after [12] complete epoch', stdout), stdout[-2000:]
    stopped_at = int(tf.train.load_variable(tf.train.latest_checkpoint(run_dir),
                                            'global_step'))
    resumed = run_script('main.py', '--name', run_dir, '--resume', '--epochs', str(epochs))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    scalars, _, _ = read_events(os.path.join(run_dir, 'tensorboard'))
    rates = scalars['train/learning_rate']
    per_epoch = 18                               # 36 training samples, 2 per step
    final = int(tf.train.load_variable(tf.train.latest_checkpoint(run_dir), 'global_step'))
    # The signal may land after epoch 1's last step: then the stop is at its end.
    assert per_epoch <= stopped_at < final and final >= epochs * per_epoch
    assert sorted(rates) == list(range(final))   # every step once, none lost or repeated
    for step, rate in rates.items():
        assert rate == pytest.approx(expected_rate(step, epochs * per_epoch, per_epoch),
                                     rel=1e-6, abs=1e-12), (step, stopped_at, final)
    assert rates[0] < rates[per_epoch - 1] and rates[per_epoch] > rates[2 * per_epoch]
