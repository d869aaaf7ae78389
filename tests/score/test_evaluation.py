"""Evaluation (evaluation.py, infer.py --evaluate): the metrics equal an independent
computation on the class maps infer.py paints."""
import json
import os
import shutil

import cv2
import numpy as np
import pytest

from roadseg.data import images, labels, sources
from scripts import run_script


def infer(*args):
    """Run infer.py; return the completed process."""
    return run_script('infer.py', *args)


def validation_files(data_dir):
    """Return the (image, label) paths of the synthetic validation split the run used."""
    source = sources.load_data_source('synthetic')
    source.seed = 0
    source.load_data(data_dir, 0.1)
    return source.valid_files, source.label_colors


def test_evaluate_equals_independent_computation_on_written_masks(trained_run, tmp_path):
    run_dir, data_dir = trained_run
    files, colors = validation_files(data_dir)
    assert len(files) == 2
    samples = tmp_path / 'valid'
    samples.mkdir()
    for image, _ in files:
        shutil.copy(image, samples / os.path.basename(image))
    painted = infer('--name', run_dir, '--samples-dir', samples, '--output-dir', tmp_path / 'out',
                    '--masks')
    assert painted.returncode == 0, painted.stderr[-2000:]
    evaluated = infer('--name', run_dir, '--evaluate', '--output-dir', tmp_path / 'eval')
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    everything = json.load(open(tmp_path / 'eval' / 'metrics.json'))
    result = everything['full_resolution']
    truth, predicted = [], []
    for image, label in files:
        stem = os.path.splitext(os.path.basename(image))[0]
        predicted.append(cv2.imread(str(tmp_path / 'out' / f'{stem}_classes.png'),
                                    cv2.IMREAD_UNCHANGED))
        truth.append(labels.colors_to_class_map(images.read_image(label), colors))
    truth, predicted = np.stack(truth), np.stack(predicted)
    ious = {}
    for c, name in enumerate(result['iou']):
        union = ((truth == c) | (predicted == c)).sum()
        ious[name] = ((truth == c) & (predicted == c)).sum() / union if union else None
    present = [v for v in ious.values() if v is not None]
    assert result['pixel_accuracy'] == pytest.approx((truth == predicted).mean(), abs=1e-12)
    assert result['mean_iou'] == pytest.approx(sum(present) / len(present), abs=1e-12)
    for name, value in ious.items():
        assert result['iou'][name] == (pytest.approx(value, abs=1e-12) if value is not None
                                       else None)
    assert 'max_f' not in result and 'cityscapes19_mean_iou' not in result
    assert set(everything) == {'full_resolution', 'training_size', 'images', 'checkpoint',
                               'input_scale', 'model', 'split', 'inference',
                               'network_runs_per_photo'}
    assert everything['model'] is None and everything['split'] is None
    assert everything['inference'] == {'flip': False, 'scales': [1.0], 'window': None,
                                       'window_overlap': None}
    assert everything['network_runs_per_photo'] == 1
    assert f"own size: pixel accuracy {result['pixel_accuracy']:.4f}, mean IoU " \
        f"{result['mean_iou']:.4f}" in evaluated.stdout
