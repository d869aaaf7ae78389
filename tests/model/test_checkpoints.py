"""The run directory's checkpoints (checkpoints.py): listing and choosing them."""
import os
import shutil

import pytest
import tensorflow.compat.v1 as tf

from conftest import ROOT
from roadseg.core.errors import UserError
from roadseg.model import checkpoints

LEGACY_RUN = os.path.join(ROOT, 'tests', 'legacy', 'runs_6d7777b', 'scratch')


def test_checkpoints_are_listed_oldest_first_and_chosen_by_index(trained_run):
    run_dir, _ = trained_run
    paths = checkpoints.checkpoint_paths(run_dir)
    assert [os.path.basename(p) for p in paths] == ['model-4', 'model-8']  # 14 training, batch 4
    assert checkpoints.select_checkpoint(run_dir) == paths[-1]
    assert checkpoints.select_checkpoint(run_dir, 0) == paths[0]
    assert checkpoints.select_checkpoint(run_dir, -2) == paths[0]
    for index in (2, -3):
        with pytest.raises(UserError, match=f'--checkpoint {index} is out of range.*has 2'):
            checkpoints.select_checkpoint(run_dir, index)


def test_a_run_without_checkpoints_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match='holds no checkpoint: train with main.py'):
        checkpoints.checkpoint_paths(str(tmp_path))
    # A state file naming checkpoints whose files are gone counts as none.
    shutil.copy(os.path.join(LEGACY_RUN, 'checkpoint'), tmp_path / 'checkpoint')
    with pytest.raises(UserError, match='holds no checkpoint'):
        checkpoints.checkpoint_paths(str(tmp_path))


def test_saving_into_a_run_directory_deleted_meanwhile_is_one_line(tmp_path):
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        tf.train.get_or_create_global_step()
        tf.Variable(1.0, name='v')
        session.run(tf.global_variables_initializer())
        gone = str(tmp_path / 'run')
        with pytest.raises(UserError, match='the run directory .* is gone'):
            checkpoints.save_checkpoint(session, tf.train.Saver(), gone)
    assert not os.path.exists(gone)
