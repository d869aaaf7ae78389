"""Finding samples (samples.py): photos paired with labels, what is skipped and how it is
reported, and the seeded split."""
import cv2
import numpy as np
import pytest

from roadseg.core.errors import UserError
from roadseg.data.samples import collect_samples, report_skipped, split_samples


@pytest.mark.parametrize('count, fraction, expected', [
    (10, 0.1, 1), (10, 0.0, 0), (1, 0.5, 0), (2, 0.01, 1), (3, 0.9, 2), (289, 0.1, 29)])
def test_split_counts(count, fraction, expected):
    samples = [(f'{i}.png', f'{i}_label.png') for i in range(count)]
    train, valid = split_samples(samples[::-1], fraction, seed=4)
    assert len(valid) == expected and len(train) == count - expected
    assert sorted(train + valid) == sorted(samples)
    assert (train, valid) == split_samples(samples, fraction, seed=4)


def test_split_rejects_bad_fractions_and_seeds():
    for fraction in (1.0, -0.1, '0.1', True):
        with pytest.raises(UserError, match='validation fraction'):
            split_samples([1, 2], fraction)
    with pytest.raises(UserError, match='seed must be a non-negative integer'):
        split_samples([1, 2], 0.5, seed=-1)


def test_collect_samples_pairs_readable_files_and_reports_the_rest(tmp_path, capsys):
    for name in ('a', 'b', 'c', 'd'):
        cv2.imwrite(str(tmp_path / f'{name}.png'), np.zeros((2, 2, 3), np.uint8))
    for name in ('a', 'c'):
        cv2.imwrite(str(tmp_path / f'{name}_label.png'), np.zeros((2, 2, 3), np.uint8))
    (tmp_path / 'd_label.png').write_bytes(b'')                  # empty: skipped with d.png
    (tmp_path / 'e.png').write_bytes(b'not an image')
    cv2.imwrite(str(tmp_path / 'e_label.png'), np.zeros((2, 2, 3), np.uint8))
    images = [str(tmp_path / f'{name}.png') for name in 'abcde'] + ['odd.jpg']

    def label_for(image):
        """The label beside a PNG photo; None for a name outside the layout."""
        return image[:-4] + '_label.png' if image.endswith('.png') else None

    pairs = collect_samples(images, label_for, 'test')
    assert pairs == [(str(tmp_path / f'{name}.png'), str(tmp_path / f'{name}_label.png'))
                     for name in 'ac']
    assert capsys.readouterr().err.splitlines() == [
        '[!] skipping 2 test images without a label: b.png, odd.jpg',
        '[!] skipping 2 test files that are empty or not images (with their pairs): '
        'd_label.png, e.png']


def test_report_skipped_names_the_first_files_and_counts_all(capsys):
    report_skipped([], 'nothing')
    report_skipped([f'/data/{i}.png' for i in range(5)], 'broken files', limit=2)
    assert capsys.readouterr().err == '[!] skipping 5 broken files: 0.png, 1.png, ...\n'
