"""The seeded split of samples (samples.py)."""
import pytest

import utils


@pytest.mark.parametrize('count, fraction, expected', [
    (10, 0.1, 1), (10, 0.0, 0), (1, 0.5, 0), (2, 0.01, 1), (3, 0.9, 2), (289, 0.1, 29)])
def test_split_counts(count, fraction, expected):
    samples = [(f'{i}.png', f'{i}_label.png') for i in range(count)]
    train, valid = utils.split_samples(samples[::-1], fraction, seed=4)
    assert len(valid) == expected and len(train) == count - expected
    assert sorted(train + valid) == sorted(samples)
    assert (train, valid) == utils.split_samples(samples, fraction, seed=4)


def test_split_rejects_bad_fractions_and_seeds():
    for fraction in (1.0, -0.1, '0.1', True):
        with pytest.raises(utils.UserError, match='validation fraction'):
            utils.split_samples([1, 2], fraction)
    with pytest.raises(utils.UserError, match='seed must be a non-negative integer'):
        utils.split_samples([1, 2], 0.5, seed=-1)
