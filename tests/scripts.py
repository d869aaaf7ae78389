"""Running the project's scripts from tests, and the tiny data they train on."""
import json
import os
import resource
import signal
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


def train_tiny_run(base, num_samples, *flags):
    """Train main.py on `num_samples` tiny synthetic scenes under `base` with `flags` (TINY's
    data source and network are the caller's to give); return (run directory, data
    directory, main.py's output). A failed run fails the calling test."""
    data_dir = write_tiny_synthetic(base / 'data', num_samples=num_samples)
    run_dir = str(base / 'run')
    result = run_script('main.py', *flags, '--data-dir', data_dir, '--name', run_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir, data_dir, result.stdout


def script_command(script, *args):
    """Return the command line that runs one of the project's scripts with `args`."""
    return [sys.executable, os.path.join(ROOT, script), *[str(a) for a in args]]


def run_script(script, *args, env=None, timeout=600, file_size_limit=None):
    """Run a project script; return the completed process (text output).

    `file_size_limit` (bytes) makes every write past that size fail as on a full disk: the
    process gets EFBIG instead of the signal that would kill it.
    """
    return subprocess.run(script_command(script, *args), capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT,
                          preexec_fn=limit_file_size(file_size_limit) if file_size_limit
                          else None)


def limit_file_size(limit):
    """Return a function that, run in a new process, limits the size of the files it writes."""
    def limit_in_child():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return limit_in_child


def last_line(text):
    """Return the last non-empty line of `text`."""
    return text.strip().splitlines()[-1]
