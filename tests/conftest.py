"""Shared pytest setup: the scripts live at the top of the repository, not in a package."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')


@pytest.fixture(scope='session')
def trained_run(tmp_path_factory):
    """A run main.py trained for two epochs (a checkpoint each) on tiny synthetic data:
    (run directory, data directory). Trained once, shared by the inference tests."""
    from scripts import TINY, train_tiny_run   # scripts imports conftest
    run_dir, data_dir, _ = train_tiny_run(tmp_path_factory.mktemp('trained_run'), 16, *TINY,
                                          '--epochs', '2', '--checkpoint-interval', '1',
                                          '--learning-rate', '1e-3')
    return run_dir, data_dir


@pytest.fixture(scope='session')
def learned_run(tmp_path_factory):
    """(run directory, data directory) of a run that has learned the scenes: 40 epochs on
    32 tiny synthetic scenes (about 10 s), so that its class maps have margins that int8
    can keep, unlike a barely trained model whose near-ties any rounding flips."""
    from scripts import TINY, train_tiny_run   # scripts imports conftest
    run_dir, data_dir, _ = train_tiny_run(tmp_path_factory.mktemp('learned_run'), 32, *TINY,
                                          '--epochs', '40', '--checkpoint-interval', '40',
                                          '--learning-rate', '3e-3')
    return run_dir, data_dir
