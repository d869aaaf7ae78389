"""Runs written before the code was reorganised still resume, infer and evaluate alike.

tests/legacy/runs_6d7777b holds two tiny KITTI runs that main.py at commit 6d7777b trained
(6 epochs, learning rate 3e-3, batch 2, validation fraction 0.34) on
`fixtures.write_road_photos_kitti` data: `scratch` (VGG16 from scratch, width 1/64) and
`vggzip` (a narrow vgg.zip SavedModel, imported as its own graph). Beside them are the
metrics and the class map of `fixtures.road_photo(300, 100, 1)` that infer.py at that
commit gave; today's code must give the same.
"""
import glob
import json
import os
import shutil

import cv2
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from conftest import ROOT
from fcnvgg import FCNVGG
from fixtures import road_photo, write_road_photos_kitti
from roadseg.data import resizing
from roadseg.model import checkpoints
from roadseg.predict.prediction import Predictor
from scripts import run_script

FIXTURES = os.path.join(ROOT, 'tests', 'legacy', 'runs_6d7777b')


@pytest.fixture(scope='module')
def kitti(tmp_path_factory):
    """The data the runs were trained on."""
    return write_road_photos_kitti(tmp_path_factory.mktemp('legacy') / 'kitti')


def copy_run(kind, tmp_path):
    """Copy a fixture run into `tmp_path`; return the copy's path."""
    run_dir = str(tmp_path / f'{kind}-run')
    shutil.copytree(os.path.join(FIXTURES, kind), run_dir)
    return run_dir


@pytest.mark.parametrize('kind', ['scratch', 'vggzip'])
def test_old_run_infers_and_evaluates_as_before(kind, kitti, tmp_path):
    run_dir = copy_run(kind, tmp_path)
    photos, output = tmp_path / 'photos', tmp_path / 'painted'
    photos.mkdir()
    cv2.imwrite(str(photos / 'road.png'), road_photo(300, 100, 1))
    result = run_script('infer.py', '--name', run_dir, '--evaluate', '--data-dir', kitti,
                        '--samples-dir', photos, '--output-dir', output, '--masks')
    assert result.returncode == 0, result.stderr[-3000:]
    classes = cv2.imread(str(output / 'road_classes.png'), cv2.IMREAD_UNCHANGED)
    assert classes.shape == (100, 300)
    # 6d7777b enlarged the network's class map by nearest neighbour; today's maps come from
    # the probabilities at the photo's size, so the network's own map is what is compared.
    # It enlarged photos for the network without half-pixel centres, unlike the OpenCV
    # resizing training used; today's graph resizes as training did, which moves a few
    # boundary pixels of these tiny models (and brings --evaluate in line with training).
    expected = cv2.imread(os.path.join(FIXTURES, f'expected_{kind}_classes.png'),
                          cv2.IMREAD_UNCHANGED)
    network = network_classes_enlarged(run_dir, road_photo(300, 100, 1))
    assert (network == expected).mean() > 0.98
    assert (classes == expected).mean() > 0.9
    with open(output / 'metrics.json') as handle:
        metrics = json.load(handle)['training_size']
    with open(os.path.join(FIXTURES, f'expected_{kind}_metrics.json')) as handle:
        for key, value in json.load(handle).items():
            step = 1 / 255 + 1e-9 if key == 'max_f_threshold' else 1e-3   # one threshold
            assert metrics[key] == pytest.approx(value, abs=step), key


def network_classes_enlarged(run_dir, photo):
    """Return the run's network class map of `photo`, enlarged to its size by nearest
    neighbour as 6d7777b did."""
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        model = FCNVGG(session)
        checkpoint = checkpoints.select_checkpoint(run_dir)
        model.build_from_metagraph(checkpoint + '.meta', checkpoint)
        predictor = Predictor(session, model, (576, 160))
        prediction = predictor.predict([predictor.prepare(photo)])[0]
    return resizing.resize_nearest(prediction.network_classes, (300, 100))


@pytest.mark.parametrize('kind', ['scratch', 'vggzip'])
def test_old_run_resumes_with_the_next_epoch(kind, kitti, tmp_path):
    run_dir = copy_run(kind, tmp_path)
    result = run_script('main.py', '--name', run_dir, '--resume', '--epochs', '7',
                        '--data-dir', kitti)
    assert result.returncode == 0, result.stderr[-3000:]
    assert '[i] epoch 7/7' in result.stdout and 'epoch 6/' not in result.stdout
    latest = tf.train.latest_checkpoint(run_dir)
    assert os.path.basename(latest) == 'model-14'     # 4 training samples, batch 2
    assert int(tf.train.load_variable(latest, 'epochs_done')) == 7
    # The old settings named the TensorBoard folder as '<old name>/tensorboard': the events
    # go into the copy, not into a folder of that name beside the tests.
    assert glob.glob(os.path.join(run_dir, 'tensorboard', 'events.*'))
    assert not os.path.exists(os.path.join(ROOT, f'{kind}-run'))
