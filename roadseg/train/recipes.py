"""The documented training recipes of the real benchmarks, written down once: docs/training.md
quotes them (a test keeps the two equal) and reproduce.py runs them.

Each recipe is main.py's flags after `--data-source NAME --data-dir DIR`, and the flags of
`infer.py --evaluate` that score it as its table reports.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Recipe:
    """How a table row of docs/training.md was made."""

    data_source: str
    train: tuple             # main.py's flags
    evaluate: tuple = ()     # infer.py --evaluate's extra flags
    split: str = ''          # the split the figures are for, in words


RECIPES = {
    'kitti': Recipe(
        'kitti',
        ('--vgg-init', 'scratch', '--precision', 'bf16', '--epochs', '30', '--batch-size',
         '8', '--learning-rate', '5e-4', '--lr-schedule', 'poly', '--warmup-epochs', '1',
         '--scale-range', '0.75,1.5', '--crop', '576x160'),
        evaluate=('--tta-scales', '0.75,1,1.25'),
        split='seed 0, validation fraction 0.1: 260 training and 29 validation photos'),
    'camvid': Recipe(
        'camvid',
        ('--vgg-init', 'scratch-bn', '--vgg-width', '0.25', '--precision', 'bf16', '--epochs',
         '60', '--time-budget', '55', '--batch-size', '8', '--learning-rate', '1e-3',
         '--lr-schedule', 'poly', '--warmup-epochs', '1', '--scale-range', '0.75,1.5',
         '--crop', '320x320'),
        evaluate=('--split', 'test'),
        split='train/ (367 photos) for training, the 233 photos of test/ scored'),
}


def main_command(recipe, data_dir, run_dir):
    """Return main.py's arguments that train `recipe` on `data_dir` into `run_dir`."""
    return ['--data-source', recipe.data_source, '--data-dir', str(data_dir), '--name',
            str(run_dir), *recipe.train]


def evaluate_command(recipe, run_dir, output_dir):
    """Return infer.py's arguments that score the run `run_dir` of `recipe` into
    `output_dir`, as its table row was scored."""
    return ['--name', str(run_dir), '--evaluate', '--output-dir', str(output_dir),
            *recipe.evaluate]
