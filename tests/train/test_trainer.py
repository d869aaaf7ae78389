"""The training graph (trainer.py) with a batch-normalised VGG16 (--vgg-init scratch-bn): it
learns, records its backbone, resumes with its moving averages, and exports to ONNX and
TFLite models that paint the class maps of infer.py."""
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from conftest import ROOT
from roadseg.model import checkpoints
from roadseg.train import run_settings
from scripts import TINY, run_script, train_tiny_run

RUN_EXPORTED = os.path.join(ROOT, 'tests', 'programs', 'run_exported.py')
BN_TINY = [flag if flag != 'scratch' else 'scratch-bn' for flag in TINY]


@pytest.fixture(scope='module')
def bn_run(tmp_path_factory):
    """(run directory, data directory, main.py's output) of a batch-normalised run: 12
    epochs on 32 tiny synthetic scenes."""
    return train_tiny_run(tmp_path_factory.mktemp('bn_run'), 32, *BN_TINY, '--epochs', '12',
                          '--checkpoint-interval', '12', '--learning-rate', '3e-3')


def epoch_lines(output):
    """Return the `[i] epoch N/M: ...` lines of main.py's output."""
    return [line for line in output.replace('\r', '\n').splitlines()
            if line.startswith('[i] epoch ')]


def moving_means(checkpoint):
    """Return {variable: value} of the checkpoint's batch-normalisation moving means."""
    reader = tf.train.load_checkpoint(checkpoint)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if name.endswith('batch_norm/moving_mean')}


def test_a_batch_normalised_run_learns_and_records_its_backbone(bn_run):
    run_dir, _, output = bn_run
    settings = run_settings.read_settings(run_dir)
    assert settings.backbone == 'scratch-bn'
    means = moving_means(checkpoints.select_checkpoint(run_dir))
    assert len(means) == 13 and all(np.abs(v).max() > 0 for v in means.values())
    lines = epoch_lines(output)
    assert len(lines) == 12
    mious = [float(line.rsplit('mIoU ', 1)[1].split()[0]) for line in lines]
    assert mious[-1] > mious[0] + 0.1 and mious[-1] > 0.4


def test_a_batch_normalised_run_resumes_with_its_averages(bn_run, tmp_path):
    run_dir, _, _ = bn_run
    copy = str(tmp_path / 'copy')
    subprocess.run(['cp', '-r', run_dir, copy], check=True)
    before = moving_means(checkpoints.select_checkpoint(copy))
    resumed = run_script('main.py', '--name', copy, '--resume', '--epochs', '13')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert [line.split(':')[0] for line in epoch_lines(resumed.stdout)] == ['[i] epoch 13/13']
    after = moving_means(checkpoints.select_checkpoint(copy))
    assert set(after) == set(before)
    # One more epoch moved the averages a little from where the run left them.
    moved = max(float(np.abs(after[k] - before[k]).max()) for k in before)
    assert 0 < moved < max(float(np.abs(v).max()) for v in before.values())


@pytest.mark.parametrize('kind', ['onnx', 'tflite'])
def test_a_batch_normalised_run_exports_and_paints_as_infer(bn_run, tmp_path, kind):
    run_dir, data_dir, _ = bn_run
    scenes = os.path.join(data_dir, 'scenes-v2-64x32-seed3', 'images')
    photos = sorted(os.path.join(scenes, name) for name in os.listdir(scenes))[:6]
    painted = tmp_path / 'painted'
    result = run_script('infer.py', '--name', run_dir, '--samples-dir', scenes,
                        '--output-dir', painted, '--masks')
    assert result.returncode == 0, result.stderr[-2000:]
    exported = run_script('infer.py', '--name', run_dir, '--export', tmp_path / kind,
                          '--export-format', kind)
    assert exported.returncode == 0, exported.stderr[-2000:]
    model = str(tmp_path / kind / f'model.{kind}')
    check = subprocess.run([sys.executable, RUN_EXPORTED, model,
                            'onnxruntime' if kind == 'onnx' else 'litert', *photos],
                           capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert check.returncode == 0, check.stderr[-3000:]
    report = json.loads(check.stdout.strip().splitlines()[-1])
    same = total = 0
    for path in photos:
        expected = cv2.imread(str(painted / (os.path.splitext(os.path.basename(path))[0]
                                             + '_classes.png')), cv2.IMREAD_UNCHANGED)
        classes = np.array(report['classes'][path])
        same += int((classes == expected).sum())
        total += expected.size
    assert same / total >= 0.995
