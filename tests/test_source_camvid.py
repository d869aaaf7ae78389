"""The CamVid source (source_camvid.py) on a test-written set in SegNet's layout: class ids
at known pixels, void as don't care, the split by folder, foreign paths in the lists
ignored, bad ids caught by the checker, and infer.py --evaluate --split test's `camvid`
block against an independent count on its own --benchmark-results files."""
import json
import os

import cv2
import numpy as np
import pytest

import source_camvid
from roadseg.core.errors import UserError
from roadseg.data import sources
from scripts import last_line, run_script

WIDTH, HEIGHT = 480, 360
COUNTS = {'train': 3, 'val': 2, 'test': 2}


def label_ids(index):
    """A label-id image: vertical bands of every id 0..11, shifted per sample, and known
    pixels: (10, 20) Road, (200, 100) Bicyclist, (300, 50) Unlabelled."""
    columns = (np.arange(WIDTH) // 40 + index) % 12
    ids = np.tile(columns.astype(np.uint8), (HEIGHT, 1))
    ids[20, 10], ids[100, 200], ids[50, 300] = 3, 10, 11
    return ids


def photo(index):
    """A photo whose colour follows its label, so a network can learn something."""
    ids = label_ids(index).astype(np.int32)
    return np.stack([ids * 20, 255 - ids * 20, (ids * 37) % 256], axis=-1).astype(np.uint8)


def write_camvid(root, counts=COUNTS):
    """Write a CamVid set in SegNet's layout, with lists that name another machine's paths."""
    for split, count in counts.items():
        os.makedirs(os.path.join(root, split), exist_ok=True)
        os.makedirs(os.path.join(root, f'{split}annot'), exist_ok=True)
        lines = []
        for index in range(count):
            name = f'{split}_{index:04d}.png'
            cv2.imwrite(os.path.join(root, split, name), photo(index))
            cv2.imwrite(os.path.join(root, f'{split}annot', name), label_ids(index))
            lines.append(f'/SegNet/CamVid/{split}/{name} /SegNet/CamVid/{split}annot/{name}')
        lines.append('/SegNet/CamVid/train/missing.png /SegNet/CamVid/trainannot/missing.png')
        with open(os.path.join(root, f'{split}.txt'), 'w') as handle:
            handle.write('\n'.join(lines) + '\n')
    return str(root)


def test_class_ids_at_known_pixels_and_void_as_dont_care(tmp_path):
    source = source_camvid.get_source()
    source.load_data(write_camvid(tmp_path), 0.1)
    _, label_path = source.train_files[0]
    classes = source.read_label(label_path)
    assert classes.shape == (HEIGHT, WIDTH)
    assert classes[20, 10] == 3 and classes[100, 200] == 10 and classes[50, 300] == -1
    ids = label_ids(0).astype(np.int32)
    np.testing.assert_array_equal(classes, np.where(ids < 11, ids, -1))
    images, labels = next(iter(source.valid_generator(2)))
    assert images.shape == (2, 352, 480, 3) and labels.shape == (2, 352, 480, 11)
    rows = labels.sum(axis=-1)
    assert set(np.unique(rows)) == {0.0, 1.0}          # one-hot, or all zero for void
    void_columns = label_ids(0)[0] == 11               # sample 0 of val: a void band
    assert (rows[0][:, void_columns] == 0).all()
    assert source.ignores_pixels and source.num_classes == 11


def test_the_split_comes_from_the_folders_and_the_lists_are_ignored(tmp_path):
    data_dir = write_camvid(tmp_path)
    source = source_camvid.get_source()
    source.load_data(data_dir, 0.5)                     # the fraction does not apply
    assert [os.path.basename(p) for p, _ in source.train_files] == [
        'train_0000.png', 'train_0001.png', 'train_0002.png']
    assert [os.path.basename(p) for p, _ in source.valid_files] == [
        'val_0000.png', 'val_0001.png']
    assert all(label.endswith(os.path.join('trainannot', os.path.basename(image)))
               for image, label in source.train_files)
    test = source_camvid.get_source()
    test.evaluation_split = 'test'
    test.load_data(data_dir, 0.1)
    assert [os.path.basename(p) for p, _ in test.valid_files] == ['test_0000.png',
                                                                  'test_0001.png']


def test_train_splits_add_folders_to_training_and_unknown_ones_are_refused(tmp_path):
    data_dir = write_camvid(tmp_path)
    source = source_camvid.get_source()
    assert source.train_splits == ('train',)
    sources.choose_train_splits(source, 'camvid', ['train', 'val', 'train'])
    assert source.train_splits == ('train', 'val')
    source.load_data(data_dir, 0.1)
    assert sorted(os.path.basename(p) for p, _ in source.train_files) == [
        'train_0000.png', 'train_0001.png', 'train_0002.png', 'val_0000.png', 'val_0001.png']
    for image, label in source.train_files:                # each photo with its own label
        folder = os.path.basename(os.path.dirname(image))
        assert label == os.path.join(data_dir, f'{folder}annot', os.path.basename(image))
    valid_names = [os.path.basename(p) for p, _ in source.valid_files]
    assert valid_names == ['val_0000.png', 'val_0001.png'] and source.num_training == 5
    with pytest.raises(UserError, match="data source 'camvid' has no split trainval to train "
                                        'on: use some of train, val, test'):
        sources.choose_train_splits(source_camvid.get_source(), 'camvid', ['trainval'])
    direct = source_camvid.get_source()                    # set without the scripts' check
    direct.train_splits = ('trainval',)
    with pytest.raises(UserError, match="CamVid has no 'trainval' split to train on"):
        direct.load_data(data_dir, 0.1)
    direct.train_splits, direct.evaluation_split = ('train',), 'train'
    with pytest.raises(UserError, match="CamVid has no 'train' split to score: use one of "
                                        'val, test'):
        direct.load_data(data_dir, 0.1)
    with pytest.raises(UserError, match="data source 'synthetic' has no named splits to "
                                        'train on: leave out --train-splits'):
        sources.choose_train_splits(sources.load_data_source('synthetic'), 'synthetic',
                                    ['train'])


@pytest.mark.parametrize('bad_id', [12, 255])
def test_ids_above_void_are_dont_care_and_the_checker_names_file_and_value(tmp_path, bad_id):
    data_dir = write_camvid(tmp_path, {'train': 2, 'val': 1})
    path = os.path.join(data_dir, 'valannot', 'val_0000.png')
    ids = label_ids(0)
    ids[5:7, 5:9] = bad_id                             # 8 pixels
    cv2.imwrite(path, ids)
    source = source_camvid.get_source()
    source.load_data(data_dir, 0.1)
    assert (source.read_label(path)[5:7, 5:9] == -1).all()
    assert source.invalid_label_values(path) == {bad_id: 8}
    result = run_script('check_data_source.py', 'camvid', data_dir, tmp_path / 'out',
                        '--samples', '1')
    assert result.returncode == 1, result.stderr[-2000:]
    assert f'[!] {path}: label value(s) outside the source\'s classes and void: {bad_id} ' \
           '(8 pixels)' in result.stdout
    assert 'Traceback' not in result.stderr


def test_a_clean_set_passes_the_checker(tmp_path):
    data_dir = write_camvid(tmp_path, {'train': 2, 'val': 1})
    result = run_script('check_data_source.py', 'camvid', data_dir, tmp_path / 'out',
                        '--samples', '2', '--crop', '224x160', '--scale-range', '0.5,1')
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert last_line(result.stdout) == '[i] All labels are valid'
    written = sorted(os.listdir(tmp_path / 'out'))
    assert len(written) == 2
    assert cv2.imread(str(tmp_path / 'out' / written[0])).shape == (160, 224, 3)


def papers_figures(predicted, truth):
    """Global accuracy, class-average accuracy and mean IoU counted independently."""
    scored = truth < 11
    right = predicted[scored] == truth[scored]
    accuracies, ious = [], []
    for c in range(11):
        is_truth, is_predicted = (truth == c) & scored, (predicted == c) & scored
        if is_truth.any():
            accuracies.append((is_truth & is_predicted).sum() / is_truth.sum())
        union = (is_truth | is_predicted).sum()
        if union:
            ious.append((is_truth & is_predicted).sum() / union)
    return right.mean(), np.mean(accuracies), np.mean(ious)


def test_evaluate_on_the_test_split_writes_the_camvid_block(tmp_path):
    data_dir = write_camvid(tmp_path / 'camvid')
    run_dir = tmp_path / 'run'
    trained = run_script('main.py', '--data-source', 'camvid', '--data-dir', data_dir,
                         '--name', run_dir, '--vgg-init', 'scratch', '--vgg-width', '0.0625',
                         '--epochs', '1', '--batch-size', '3', '--learning-rate', '1e-3')
    assert trained.returncode == 0, trained.stderr[-2000:]
    submission = tmp_path / 'ids'
    result = run_script('infer.py', '--name', run_dir, '--evaluate', '--split', 'test',
                        '--samples-dir', os.path.join(data_dir, 'test'), '--output-dir',
                        tmp_path / 'painted', '--benchmark-results', submission)
    assert result.returncode == 0, result.stderr[-2000:]
    with open(tmp_path / 'painted' / 'metrics.json') as handle:
        metrics = json.load(handle)
    assert metrics['split'] == 'test' and metrics['images'] == 2
    predicted = np.stack([cv2.imread(str(submission / f'test_{i:04d}.png'),
                                     cv2.IMREAD_UNCHANGED) for i in range(2)])
    truth = np.stack([label_ids(i) for i in range(2)])
    assert predicted.shape == truth.shape and predicted.max() <= 10
    global_accuracy, class_accuracy, mean_iou = papers_figures(predicted, truth)
    camvid = metrics['camvid']
    assert camvid['global_accuracy'] == pytest.approx(global_accuracy, abs=1e-9)
    assert camvid['class_average_accuracy'] == pytest.approx(class_accuracy, abs=1e-9)
    assert camvid['mean_iou'] == pytest.approx(mean_iou, abs=1e-9)
    assert camvid['pixels'] == int((truth < 11).sum())
    assert 'CamVid score as the papers report it' in result.stdout


def test_split_is_refused_for_a_source_without_splits(tmp_path, trained_run):
    run_dir, _ = trained_run
    result = run_script('infer.py', '--name', run_dir, '--evaluate', '--split', 'test')
    assert result.returncode == 1
    assert last_line(result.stderr) == ("[!] data source 'synthetic' has no named splits to "
                                        'choose from: leave out --split (it scores its '
                                        'validation split)')


def test_a_run_on_train_and_val_says_val_is_not_held_out_and_unknown_splits_are_refused(
        tmp_path):
    data_dir = write_camvid(tmp_path / 'camvid', {'train': 2, 'val': 1, 'test': 1})
    run_dir = tmp_path / 'run'
    trained = run_script('main.py', '--data-source', 'camvid', '--data-dir', data_dir,
                         '--name', run_dir, '--vgg-init', 'scratch', '--vgg-width', '0.0625',
                         '--epochs', '1', '--batch-size', '2', '--train-splits', 'train,val')
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert '[i] 3 training, 1 validation samples, 11 classes' in trained.stdout
    not_held_out = ('[!] the val split scored here is one the run trains on (--train-splits '
                    'train,val): its scores are not of unseen photos')
    assert not_held_out in trained.stderr.splitlines()
    with open(run_dir / 'settings.json') as handle:
        assert json.load(handle)['train_splits'] == ['train', 'val']
    scored = run_script('infer.py', '--name', run_dir, '--evaluate')
    assert scored.returncode == 0, scored.stderr[-2000:]
    assert not_held_out in scored.stderr.splitlines()
    result = run_script('infer.py', '--name', run_dir, '--evaluate', '--split', 'train')
    assert result.returncode == 1
    assert last_line(result.stderr) == ("[!] data source 'camvid' has no split 'train': use "
                                        'one of val, test')
