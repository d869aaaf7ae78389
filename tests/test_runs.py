"""The run directory's checkpoints (runs.py): listing, choosing, and what a run directory is."""
import os
import shutil

import pytest

import runs
from conftest import ROOT
from errors import UserError

LEGACY_RUN = os.path.join(ROOT, 'tests', 'data', 'runs_6d7777b', 'scratch')


def test_checkpoints_are_listed_oldest_first_and_chosen_by_index(trained_run):
    run_dir, _ = trained_run
    paths = runs.checkpoint_paths(run_dir)
    assert [os.path.basename(p) for p in paths] == ['model-4', 'model-8']  # 14 training, batch 4
    assert runs.select_checkpoint(run_dir) == paths[-1]
    assert runs.select_checkpoint(run_dir, 0) == paths[0]
    assert runs.select_checkpoint(run_dir, -2) == paths[0]
    for index in (2, -3):
        with pytest.raises(UserError, match=f'--checkpoint {index} is out of range.*has 2'):
            runs.select_checkpoint(run_dir, index)


def test_a_run_without_checkpoints_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match='holds no checkpoint: train with main.py'):
        runs.checkpoint_paths(str(tmp_path))
    # A state file naming checkpoints whose files are gone counts as none.
    shutil.copy(os.path.join(LEGACY_RUN, 'checkpoint'), tmp_path / 'checkpoint')
    with pytest.raises(UserError, match='holds no checkpoint'):
        runs.checkpoint_paths(str(tmp_path))


def test_run_directories_are_told_from_other_folders(tmp_path):
    assert runs.is_run_directory(LEGACY_RUN)
    assert not runs.is_run_directory(str(tmp_path))
    (tmp_path / 'checkpoint').write_text('')
    assert runs.is_run_directory(str(tmp_path))
