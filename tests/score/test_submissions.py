"""Benchmark-true results on tiny data sets in the real layouts: predictions at each photo's
size, the official Cityscapes and KITTI Road scores, and the submission files."""
import json
import os

import cv2
import numpy as np
import pytest

from fixtures import write_road_photos_kitti
from roadseg.bench.inputs import HEIGHT, WIDTH
from roadseg.bench.inputs import write_cityscapes_split as write_cityscapes
from roadseg.score import kitti_score
from scripts import run_script

official = pytest.importorskip('cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling')
TINY_SCRATCH = ['--vgg-init', 'scratch', '--vgg-width', '0.0625', '--batch-size', '2',
                '--learning-rate', '1e-3']


@pytest.fixture(scope='module')
def cityscapes_run(tmp_path_factory):
    """A tiny run trained on a 2048x1024 Cityscapes set: (run dir, data dir, val photos)."""
    base = tmp_path_factory.mktemp('cityscapes')
    data = str(base / 'data')
    write_cityscapes(data, 'train', 'aachen', 2, seed=0)
    val_photos = write_cityscapes(data, 'val', 'lindau', 2, seed=10)
    run = str(base / 'run')
    trained = run_script('main.py', '--data-source', 'cityscapes', '--data-dir', data,
                         '--name', run, '--epochs', '12', *TINY_SCRATCH,
                         '--learning-rate', '3e-3')
    assert trained.returncode == 0, trained.stderr[-3000:]
    return run, data, val_photos


def official_evaluation(results_dir, truth_files, work_dir, monkeypatch):
    """Return cityscapesscripts' result dict: its own file lookup and evaluation."""
    if not hasattr(np, 'in1d'):   # removed in NumPy 2.4; the script still calls it
        monkeypatch.setattr(np, 'in1d', lambda a, b: np.isin(a, b).ravel(), raising=False)
    args = official.args
    args.quiet, args.JSONOutput = True, False
    args.exportFile = os.path.join(work_dir, 'official.json')
    args.predictionPath, args.predictionWalk = results_dir, None
    predictions = [official.getPrediction(args, truth) for truth in truth_files]
    return official.evaluateImgLists(predictions, truth_files, args)


# Plain, and with test-time augmentation: either way --evaluate equals the official tools
# run on its own --benchmark-results files.
TTA = [(), ('--tta-flip', '--tta-scales', '0.75,1')]


@pytest.mark.parametrize('tta', TTA)
def test_cityscapes_official_score_equals_cityscapesscripts_on_the_submission_files(
        cityscapes_run, tmp_path, monkeypatch, tta):
    run, data, val_photos = cityscapes_run
    results = tmp_path / 'results'
    painted = run_script('infer.py', '--name', run, '--samples-dir', val_photos,
                         '--output-dir', tmp_path / 'painted', '--masks',
                         '--benchmark-results', results, *tta)
    assert painted.returncode == 0, painted.stderr[-3000:]
    written = sorted(os.listdir(results / 'lindau'))
    assert written == ['lindau_000000_000019_leftImg8bit.png',
                       'lindau_000001_000019_leftImg8bit.png']
    submission = cv2.imread(str(results / 'lindau' / written[0]), cv2.IMREAD_UNCHANGED)
    assert submission.shape == (HEIGHT, WIDTH) and submission.dtype == np.uint8
    classes = cv2.imread(str(tmp_path / 'painted' / 'lindau_000000_000019_leftImg8bit_classes'
                                                    '.png'), cv2.IMREAD_UNCHANGED)
    ids = [label_id for _, label_id, _ in __import__('source_cityscapes').LABELS]
    np.testing.assert_array_equal(submission, np.asarray(ids, np.uint8)[classes])

    evaluated = run_script('infer.py', '--name', run, '--evaluate', '--output-dir',
                           tmp_path / 'eval', *tta)
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    ours = json.load(open(tmp_path / 'eval' / 'metrics.json'))['cityscapes_official']
    truth = sorted(os.path.join(data, 'gtFine', 'val', 'lindau', name)
                   for name in os.listdir(os.path.join(data, 'gtFine', 'val', 'lindau'))
                   if name.endswith('_gtFine_labelIds.png'))
    theirs = official_evaluation(str(results), truth, str(tmp_path), monkeypatch)
    for key, their_key in (('iou_class', 'averageScoreClasses'),
                           ('iou_category', 'averageScoreCategories'),
                           ('iiou_class', 'averageScoreInstClasses'),
                           ('iiou_category', 'averageScoreInstCategories')):
        assert ours[key] == pytest.approx(theirs[their_key], abs=1e-6), key
    for name, value in ours['per_class'].items():
        their = theirs['classScores'][name]
        assert (value is None and np.isnan(their)) or value == pytest.approx(their, abs=1e-6)
    assert 'Cityscapes official score' in evaluated.stdout
    assert "training size 512x256 (not a benchmark's)" in evaluated.stdout


def test_full_resolution_class_maps_are_not_a_blocky_enlargement(cityscapes_run, tmp_path):
    run, _, val_photos = cityscapes_run
    painted = run_script('infer.py', '--name', run, '--samples-dir', val_photos,
                         '--output-dir', tmp_path / 'painted', '--masks')
    assert painted.returncode == 0, painted.stderr[-3000:]
    classes = cv2.imread(str(tmp_path / 'painted' / 'lindau_000000_000019_leftImg8bit_classes'
                                                    '.png'), cv2.IMREAD_UNCHANGED)
    assert classes.shape == (HEIGHT, WIDTH) and len(np.unique(classes)) > 1
    blocks = classes.reshape(HEIGHT // 4, 4, WIDTH // 4, 4).transpose(0, 2, 1, 3)
    mixed = (blocks.reshape(HEIGHT // 4, WIDTH // 4, 16) !=
             blocks[:, :, :1, :1].reshape(HEIGHT // 4, WIDTH // 4, 1)).any(axis=-1)
    assert mixed.sum() > 50          # nearest-neighbour enlargement by 4 would give none


def test_a_folder_with_only_val_is_scored(cityscapes_run, tmp_path):
    run, data, _ = cityscapes_run
    only_val = tmp_path / 'val_only'
    for kind in ('leftImg8bit', 'gtFine'):
        os.makedirs(only_val / kind)
        os.symlink(os.path.join(data, kind, 'val'), only_val / kind / 'val')
    evaluated = run_script('infer.py', '--name', run, '--evaluate', '--data-dir', only_val,
                           '--output-dir', tmp_path / 'eval')
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    result = json.load(open(tmp_path / 'eval' / 'metrics.json'))
    assert result['images'] == 2 and result['cityscapes_official']['iou_class'] is not None


@pytest.fixture(scope='module')
def kitti_run(tmp_path_factory):
    """A tiny run trained on KITTI Road photos of 1242x375: (run dir, data dir)."""
    base = tmp_path_factory.mktemp('kitti')
    data = write_road_photos_kitti(base / 'data', count=8, size=(1242, 375))
    run = str(base / 'run')
    trained = run_script('main.py', '--data-source', 'kitti', '--data-dir', data,
                         '--name', run, '--epochs', '2', '--valid-fraction', '0.25',
                         *TINY_SCRATCH)
    assert trained.returncode == 0, trained.stderr[-3000:]
    return run, data


@pytest.mark.parametrize('tta', TTA)
def test_kitti_official_score_equals_a_brute_force_on_the_submission_files(kitti_run,
                                                                           tmp_path, tta):
    run, data = kitti_run
    settings = json.load(open(os.path.join(run, 'settings.json')))
    from roadseg.data import sources
    source = sources.load_source_data('kitti', data, settings['valid_fraction'],
                                      settings['seed'])
    photos = tmp_path / 'photos'
    photos.mkdir()
    for image, _ in source.valid_files:
        os.symlink(image, photos / os.path.basename(image))
    results = tmp_path / 'results'
    painted = run_script('infer.py', '--name', run, '--samples-dir', photos, '--output-dir',
                         tmp_path / 'painted', '--benchmark-results', results, *tta)
    assert painted.returncode == 0, painted.stderr[-3000:]
    expected = sorted(os.path.basename(label) for _, label in source.valid_files)
    assert sorted(os.listdir(results)) == expected and len(expected) == 2
    evaluated = run_script('infer.py', '--name', run, '--evaluate', '--output-dir',
                           tmp_path / 'eval', *tta)
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    ours = json.load(open(tmp_path / 'eval' / 'metrics.json'))['kitti_official']
    assert set(ours) == {'um_road', 'urban_road'}
    tp, fp, positives = np.zeros(256), np.zeros(256), 0
    for _, label_path in source.valid_files:
        label = cv2.imread(label_path)
        value = cv2.imread(str(results / os.path.basename(label_path)), 0)
        assert value.shape == label.shape[:2] == (375, 1242)
        value = value.astype(np.float32) / 255
        road, valid = label[..., 0] > 0, label[..., 2] > 0
        positives += np.sum(road & valid)
        for k in range(256):
            tp[k] += np.sum((value >= k / 255.0) & road & valid)
            fp[k] += np.sum((value >= k / 255.0) & ~road & valid)
    recall, precision = tp / positives, tp / (tp + fp + 1e-10)
    keep = ~((recall == 0) & (precision == 0))
    f = 2.0 * (precision[keep] * recall[keep]) / (precision[keep] + recall[keep] + 1e-10)
    assert ours['um_road']['max_f'] == pytest.approx(f.max(), abs=1e-9)
    assert ours['urban_road'] == ours['um_road']
    assert 'KITTI Road official score' in evaluated.stdout
    runs = json.load(open(tmp_path / 'eval' / 'metrics.json'))['network_runs_per_photo']
    assert runs == (4 if tta else 1)


def test_input_scale_one_paints_a_class_map_of_the_photos_size(kitti_run, tmp_path):
    run, data = kitti_run
    photos = tmp_path / 'photos'
    photos.mkdir()
    os.symlink(os.path.join(data, 'training', 'image_2', 'um_000000.png'),
               photos / 'um_000000.png')
    painted = run_script('infer.py', '--name', run, '--samples-dir', photos, '--output-dir',
                         tmp_path / 'painted', '--masks', '--input-scale', '1')
    assert painted.returncode == 0, painted.stderr[-3000:]
    classes = cv2.imread(str(tmp_path / 'painted' / 'um_000000_classes.png'),
                         cv2.IMREAD_UNCHANGED)
    assert classes.shape == (375, 1242)


def test_a_source_without_benchmark_format_says_so(trained_run, tmp_path):
    run, data = trained_run
    photos = tmp_path / 'photos'
    photos.mkdir()
    result = run_script('infer.py', '--name', run, '--samples-dir', photos, '--output-dir',
                        tmp_path / 'out', '--benchmark-results', tmp_path / 'results')
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith(
        '[!] the data source synthetic has no benchmark format')


def test_all_samples_scores_every_labelled_pair_of_a_folder(kitti_run, tmp_path):
    run, data = kitti_run
    evaluated = run_script('infer.py', '--name', run, '--evaluate', '--data-dir', data,
                           '--all-samples', '--output-dir', tmp_path / 'eval')
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert json.load(open(tmp_path / 'eval' / 'metrics.json'))['images'] == 8
