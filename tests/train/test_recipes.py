"""The documented real-data recipes (recipes.py): docs/training.md quotes exactly what
reproduce.py runs, and reproduce.py prints the table row of a run's metrics.json."""
import os
import re

import pytest

import reproduce
from conftest import ROOT
from roadseg.train.recipes import RECIPES, evaluate_command, main_command
from scripts import last_line, run_script


def documented_commands(script='main.py'):
    """Return the `python SCRIPT ...` commands of docs/training.md, continuations joined."""
    with open(os.path.join(ROOT, 'docs', 'training.md')) as handle:
        text = handle.read().replace('\\\n', ' ')
    return [' '.join(line.split()) for line in text.splitlines()
            if line.strip().startswith(f'python {script}')]


@pytest.mark.parametrize('name', sorted(RECIPES))
def test_the_docs_quote_each_recipe_as_reproduce_runs_it(name):
    expected = ' '.join(['python', 'main.py', *main_command(RECIPES[name],
                                                            f'data/{name}', 'RUN')])
    expected = expected.replace(' --name RUN', '')
    assert expected in documented_commands()
    # Scored as its row was: the infer.py line names the recipe's evaluation flags.
    scored = ' '.join(['python', 'infer.py', *evaluate_command(RECIPES[name], f'runs/{name}',
                                                               'OUT')])
    assert scored.replace(' --output-dir OUT', '') in documented_commands('infer.py')


def test_a_kitti_row_holds_maxf_and_ap_per_category():
    metrics = {'kitti_official': {c: {'max_f': 0.95 + i / 1000, 'ap': 0.9}
                                  for i, c in enumerate(reproduce.KITTI_CATEGORIES)},
               'full_resolution': {'mean_iou': 0.93}}
    row = reproduce.table_row('kitti', metrics, 41.25, '20')
    assert row == ('| kitti | 0.9500 / 0.9000 | 0.9510 / 0.9000 | 0.9520 / 0.9000 | '
                   '0.9530 / 0.9000 | 0.9300 | 41.2 min | 20 |')
    head = reproduce.table_head('kitti').splitlines()
    assert head[0].count('|') == row.count('|') and re.fullmatch(r'\|(---\|)+', head[1])


def test_a_camvid_row_holds_the_papers_three_figures():
    metrics = {'camvid': {'global_accuracy': 0.8, 'class_average_accuracy': 0.6,
                          'mean_iou': 0.5}, 'full_resolution': {'mean_iou': 0.49}}
    assert reproduce.table_row('camvid', metrics, 59.0, '18') == \
        '| camvid | 0.8000 | 0.6000 | 0.5000 | 0.4900 | 59.0 min | 18 |'


def test_reproduce_refuses_a_missing_folder_and_an_existing_work_dir(tmp_path):
    result = run_script('reproduce.py', 'kitti', '--data-dir', tmp_path / 'none')
    assert result.returncode == 1
    assert last_line(result.stderr) == f'[!] --data-dir {tmp_path / "none"} is not a folder'
    (tmp_path / 'work').mkdir()
    result = run_script('reproduce.py', 'camvid', '--data-dir', tmp_path, '--work-dir',
                        tmp_path / 'work')
    assert result.returncode == 1
    assert 'exists: give a new folder' in last_line(result.stderr)


def test_the_row_counts_the_epochs_the_run_recorded(tmp_path):
    """A --time-budget may lower a recipe's --epochs: the row reports what the run trained."""
    from roadseg.train.run_settings import RunSettings, write_settings
    write_settings(str(tmp_path), RunSettings(epochs=17, time_budget=55))
    assert reproduce.trained_epochs(str(tmp_path)) == 17
