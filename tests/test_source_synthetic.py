"""The synthetic road-scene source: settings, generation on first use, reuse, determinism."""
import json
import os

import numpy as np
import pytest

import source_synthetic
from roadseg.core.errors import UserError
from roadseg.data.images import read_image
from roadseg.data.labels import check_one_hot

TINY = {'image_size': [64, 32], 'num_samples': 6, 'seed': 3}
FOLDER = f'scenes-v{source_synthetic.VERSION}-64x32-seed3'  # where TINY is generated


def make_dir(path, settings=TINY):
    """A data directory whose synthetic.json asks for `settings`."""
    path.mkdir(parents=True, exist_ok=True)
    (path / 'synthetic.json').write_text(json.dumps(settings))
    return path


def loaded(data_dir, valid_fraction=0.34, seed=0):
    """A synthetic source after load_data."""
    source = source_synthetic.get_source()
    source.seed = seed
    source.load_data(str(data_dir), valid_fraction)
    return source


def all_samples(source):
    """Every (image, label) of the validation split then the training split, as arrays."""
    source.valid_files = sorted(source.train_files + source.valid_files)
    images, labels = zip(*source.valid_generator(4))
    return np.concatenate(images), np.concatenate(labels)


def generated_files(data_dir):
    """{relative path: modification time} of everything generated under data_dir."""
    result = {}
    for root, _, names in os.walk(data_dir):
        for name in names:
            path = os.path.join(root, name)
            result[os.path.relpath(path, data_dir)] = os.stat(path).st_mtime_ns
    return result


def test_generates_png_pairs_and_follows_the_settings(tmp_path, capsys):
    source = loaded(make_dir(tmp_path / 'data'))
    assert source.image_size == (64, 32)
    assert (source.num_training, source.num_validation) == (4, 2)
    assert source.class_names == ['sky', 'road', 'sidewalk', 'building', 'vegetation', 'car',
                                  'person']
    assert '[i] Generating 6 synthetic road scenes (64x32, seed 3)' in capsys.readouterr().out
    folder = tmp_path / 'data' / FOLDER
    assert sorted(os.listdir(folder / 'images')) == [f'{i:05d}.png' for i in range(6)]
    assert sorted(os.listdir(folder / 'labels')) == [f'{i:05d}.png' for i in range(6)]
    assert read_image(str(folder / 'images' / '00000.png')).shape == (32, 64, 3)
    images, labels = all_samples(source)
    assert images.shape == (6, 32, 64, 3) and labels.shape == (6, 32, 64, 7)
    assert images.dtype == labels.dtype == np.float32
    assert not check_one_hot(labels).bad.any()  # every pixel has exactly one class
    assert json.loads((tmp_path / 'data' / 'synthetic.json').read_text()) == TINY


def test_same_seed_same_arrays_other_seed_other_arrays(tmp_path):
    first = all_samples(loaded(make_dir(tmp_path / 'a')))
    second = all_samples(loaded(make_dir(tmp_path / 'b')))
    other = all_samples(loaded(make_dir(tmp_path / 'c', dict(TINY, seed=4))))
    for a, b, c in zip(first, second, other):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_existing_data_is_reused_and_only_missing_files_are_written(tmp_path, capsys):
    data_dir = make_dir(tmp_path / 'data')
    loaded(data_dir)
    before = generated_files(data_dir)
    label = data_dir / FOLDER / 'labels' / '00002.png'
    label_bytes = label.read_bytes()
    (data_dir / 'my_notes.txt').write_text('mine')
    capsys.readouterr()
    loaded(data_dir)
    assert 'Generating' not in capsys.readouterr().out
    label.unlink()
    loaded(data_dir)
    assert '[i] Generating 1 synthetic road scene ' in capsys.readouterr().out
    assert label.read_bytes() == label_bytes
    after = generated_files(data_dir)
    assert after.pop('my_notes.txt') and (data_dir / 'my_notes.txt').read_text() == 'mine'
    changed = {path for path in before if before[path] != after[path]}
    assert changed == {os.path.join(FOLDER, 'labels', '00002.png')}


def test_other_settings_never_touch_earlier_files(tmp_path):
    data_dir = make_dir(tmp_path / 'data')
    loaded(data_dir)
    before = generated_files(data_dir)
    make_dir(data_dir, dict(TINY, image_size=[96, 64], num_samples=3))
    source = loaded(data_dir)
    assert source.image_size == (96, 64)
    assert source.num_training + source.num_validation == 3
    after = generated_files(data_dir)
    assert all(after[path] == before[path] for path in before if path != 'synthetic.json')
    other = f'scenes-v{source_synthetic.VERSION}-96x64-seed3'
    assert len(os.listdir(data_dir / other / 'images')) == 3
    # Fewer samples than on disk: the first ones are used, nothing is deleted.
    make_dir(data_dir, dict(TINY, num_samples=4))
    assert loaded(data_dir, valid_fraction=0.25).num_training == 3
    assert len(os.listdir(data_dir / FOLDER / 'images')) == 6


def test_missing_settings_file_is_written_with_the_defaults(tmp_path):
    settings = source_synthetic.read_settings(str(tmp_path / 'new'))
    assert settings == {'image_size': [256, 96], 'num_samples': 400, 'seed': 0}
    assert json.loads((tmp_path / 'new' / 'synthetic.json').read_text()) == settings
    make_dir(tmp_path / 'partial', {'num_samples': 5})
    assert source_synthetic.read_settings(str(tmp_path / 'partial')) == {
        'image_size': [256, 96], 'num_samples': 5, 'seed': 0}


@pytest.mark.parametrize('text, pattern', [
    ('{"image_size": [100, 50]}', r'synthetic.json has image_size \(100, 50\).*multiples of 32'),
    ('{"num_samples": 0}', 'num_samples must be an integer of at least 1'),
    ('{"seed": -2}', 'seed must be an integer of at least 0'),
    ('{"num_sample": 5}', 'must be a JSON object with some of the keys image_size'),
    ('[1, 2]', 'must be a JSON object'),
    ('{"seed": 1', 'cannot read .*synthetic.json'),
])
def test_bad_settings_are_refused(tmp_path, text, pattern):
    (tmp_path / 'synthetic.json').write_text(text)
    with pytest.raises(UserError, match=pattern):
        loaded(tmp_path)


def test_data_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / 'file').write_text('x')
    with pytest.raises(UserError, match='is a file'):
        loaded(tmp_path / 'file')
