#!/usr/bin/env python3
"""Reproduce a real-data row of docs/training.md: train a documented recipe on the real files,
score it as the benchmark does, and print the row with the machine it ran on.

    python reproduce.py kitti --data-dir data/kitti      # KITTI Road, the devkit's MaxF
    python reproduce.py camvid --data-dir data/camvid    # CamVid's test split, the papers' way

It runs exactly what a user would: `main.py` with the recipe's flags (roadseg/train/
recipes.py), timed from start to exit, then `infer.py --evaluate`; the run and its
metrics.json stay in --work-dir.
"""
import json
import os
import subprocess
import sys
import time

from roadseg.core import console
from roadseg.core.errors import ArgumentParser, UserError, run_script
from roadseg.core.machine import cpu_flags, cpu_model
from roadseg.train.recipes import RECIPES, evaluate_command, main_command

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
KITTI_CATEGORIES = ('um_road', 'umm_road', 'uu_road', 'urban_road')


def parse_args(argv=None):
    """Return the command line arguments."""
    parser = ArgumentParser(description='Train a documented recipe on the real files and '
                                        'print its table row.')
    parser.add_argument('recipe', choices=sorted(RECIPES), help='which recipe')
    parser.add_argument('--data-dir', required=True, help="the data set's folder")
    parser.add_argument('--work-dir', help='where the run and its metrics go (default '
                        'runs/reproduce-<recipe>); must not exist yet')
    return parser.parse_args(argv)


def run_step(script, args):
    """Run one of the scripts with its output on this console; return its wall time (s).
    A failed step is one `UserError` line (the script has printed why)."""
    start = time.perf_counter()
    status = subprocess.run([sys.executable, os.path.join(SCRIPTS, script), *args],
                            check=False).returncode
    if status != 0:
        raise UserError(f'{script} stopped with exit status {status}; see its last line above')
    return time.perf_counter() - start


def machine():
    """Return the CPU model, its core count and its bf16/AMX flags, in words."""
    flags = cpu_flags()
    shown = [flag for flag in ('avx512_bf16', 'amx_bf16') if flag in flags]
    return f'{cpu_model()}, {os.cpu_count()} cores, {", ".join(shown) or "no bf16 flags"}'


def table_row(name, metrics, minutes, epochs):
    """Return the figures of a recipe's metrics.json as one markdown table row."""
    if name == 'kitti':
        official = metrics['kitti_official']
        figures = [f'{official[c]["max_f"]:.4f} / {official[c]["ap"]:.4f}'
                   for c in KITTI_CATEGORIES]
    else:
        camvid = metrics['camvid']
        figures = [f'{camvid[key]:.4f}' for key in ('global_accuracy',
                                                    'class_average_accuracy', 'mean_iou')]
    mean_iou = metrics['full_resolution']['mean_iou']
    return '| ' + ' | '.join([name, *figures, f'{mean_iou:.4f}', f'{minutes:.1f} min',
                              str(epochs)]) + ' |'


def table_head(name):
    """Return the header of the recipe's table row."""
    figures = ([f'{c} MaxF / AP' for c in KITTI_CATEGORIES] if name == 'kitti' else
               ['global accuracy', 'class-average accuracy', 'mean IoU (11 classes)'])
    columns = ['recipe', *figures, "project's mIoU (full res.)", 'training', 'epochs']
    return '| ' + ' | '.join(columns) + ' |\n|' + '---|' * len(columns)


def trained_epochs(run_dir):
    """Return the epochs the run trained: its --epochs, or fewer where its --time-budget
    lowered them (settings.json records the count)."""
    # Imported here: run_settings brings TensorFlow, which --help does without.
    from roadseg.train.run_settings import read_settings
    return read_settings(run_dir).epochs


def main(argv=None):
    """Parse, check, train, evaluate, report."""
    args = parse_args(argv)
    if args.verbose:        # main.py and infer.py, run below, read it too
        os.environ[console.VERBOSE_VARIABLE] = '1'
    recipe = RECIPES[args.recipe]
    work_dir = args.work_dir or os.path.join('runs', f'reproduce-{args.recipe}')
    if not os.path.isdir(args.data_dir):
        raise UserError(f'--data-dir {args.data_dir} is not a folder')
    if os.path.exists(work_dir):
        raise UserError(f'--work-dir {work_dir} exists: give a new folder, so that the '
                        'training time is that of a whole run')
    run_dir, eval_dir = os.path.join(work_dir, 'run'), os.path.join(work_dir, 'evaluation')
    training = main_command(recipe, args.data_dir, run_dir)
    scoring = evaluate_command(recipe, run_dir, eval_dir)
    seconds = run_step('main.py', training)
    run_step('infer.py', scoring)
    with open(os.path.join(eval_dir, 'metrics.json')) as handle:
        metrics = json.load(handle)
    epochs = trained_epochs(run_dir)
    print(f'[i] Recipe {args.recipe}: python main.py {" ".join(training)}')
    print(f'[i] Scored: python infer.py {" ".join(scoring)}')
    print(f'[i] Split: {recipe.split}')
    print(f'[i] Machine: {machine()}')
    print(table_head(args.recipe))
    print(table_row(args.recipe, metrics, seconds / 60, epochs))
    return 0


if __name__ == '__main__':
    run_script(main)
