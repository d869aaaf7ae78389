"""Running the project's scripts from tests, and the tiny data they train on."""
import json
import os
import subprocess
import sys

from conftest import ROOT

TINY = ['--data-source', 'synthetic', '--vgg-init', 'scratch', '--vgg-width', '0.0625',
        '--batch-size', '4']


def write_tiny_synthetic(data_dir, num_samples=12):
    """Ask the synthetic source for a tiny data set (64x32) in `data_dir`; return its path."""
    os.makedirs(data_dir, exist_ok=True)
    with open(os.path.join(data_dir, 'synthetic.json'), 'w') as handle:
        json.dump({'image_size': [64, 32], 'num_samples': num_samples, 'seed': 3}, handle)
    return str(data_dir)


def script_command(script, *args):
    """Return the command line that runs one of the project's scripts with `args`."""
    return [sys.executable, os.path.join(ROOT, script), *[str(a) for a in args]]


def run_script(script, *args, env=None, timeout=600):
    """Run a project script; return the completed process (text output)."""
    return subprocess.run(script_command(script, *args), capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def last_line(text):
    """Return the last non-empty line of `text`."""
    return text.strip().splitlines()[-1]
