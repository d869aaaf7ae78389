"""A quiet console (console.py): the scripts show their own lines, not TensorFlow's logging,
unless --verbose or ROADSEG_VERBOSE=1 asks for it."""
import os
import re

import cv2
import numpy as np
import pytest
import tensorflow as tf2

from roadseg.core import console
from roadseg.model import precision
from scripts import TINY, run_script, write_tiny_synthetic

# A line of TensorFlow's C++ logging (I0000, W0000, E0000 ... or the old dated form) or
# absl's note that its logging has not started.
CPP_LOG_LINE = re.compile(r'^[IWEF]\d{4} |absl::InitializeLog|^\d{4}-\d\d-\d\d [\d:.]+: [IWEF] ',
                          re.MULTILINE)


def user_environment(**extra):
    """The environment of a user who set no logging variables."""
    env = {k: v for k, v in os.environ.items()
           if k not in ('TF_CPP_MIN_LOG_LEVEL', console.VERBOSE_VARIABLE)}
    return dict(env, **extra)


def tiny_photo(tmp_path):
    path = str(tmp_path / 'in.png')
    cv2.imwrite(path, np.arange(8 * 6 * 3, dtype=np.uint8).reshape(6, 8, 3))
    return path


@pytest.mark.parametrize('script', ['main.py', 'infer.py', 'check_data_source.py',
                                    'upscale.py', 'bench.py', 'reproduce.py'])
def test_help_shows_no_tensorflow_logging(script):
    result = run_script(script, '--help', env=user_environment())
    assert result.returncode == 0
    assert not CPP_LOG_LINE.search(result.stdout + result.stderr), result.stderr
    assert result.stderr == ''


def test_scripts_that_run_tensorflow_show_no_logging(tmp_path):
    data_dir = write_tiny_synthetic(tmp_path / 'data', num_samples=8)
    run_dir = tmp_path / 'run'
    trained = run_script('main.py', *TINY, '--epochs', '1', '--data-dir', data_dir,
                         '--name', run_dir, env=user_environment())
    assert trained.returncode == 0, trained.stderr[-2000:]
    painted = run_script('infer.py', '--name', run_dir, '--samples-dir', tmp_path / 'data',
                         '--recursive', '--output-dir', tmp_path / 'painted',
                         env=user_environment())
    assert painted.returncode == 0, painted.stderr[-2000:]
    upscaled = run_script('upscale.py', tiny_photo(tmp_path), tmp_path / 'out.png',
                          env=user_environment())
    assert upscaled.returncode == 0, upscaled.stderr
    checked = run_script('check_data_source.py', 'synthetic', data_dir, tmp_path / 'checked',
                         env=user_environment())
    assert checked.returncode == 0, checked.stderr[-2000:]
    for result in (trained, painted, upscaled, checked):
        assert not CPP_LOG_LINE.search(result.stdout + result.stderr), result.stderr[-2000:]
    assert '[i] epoch 1/1' in trained.stdout
    assert os.path.isfile(tmp_path / 'out.png')


@pytest.mark.parametrize('asked', [('--verbose',), ()])
def test_verbose_shows_tensorflow_logging_again(tmp_path, asked):
    env = user_environment() if asked else user_environment(**{console.VERBOSE_VARIABLE: '1'})
    result = run_script('upscale.py', tiny_photo(tmp_path), tmp_path / 'out.png', *asked,
                        env=env)
    assert result.returncode == 0, result.stderr
    assert CPP_LOG_LINE.search(result.stderr), result.stderr


def test_verbose_is_the_flag_or_the_variable():
    assert console.verbose(['--verbose'], {})
    assert console.verbose([], {console.VERBOSE_VARIABLE: '1'})
    assert not console.verbose([], {console.VERBOSE_VARIABLE: '0'})
    assert not console.verbose(['--name', 'x'], {})


def test_a_gpu_box_names_its_gpus_in_one_line(monkeypatch):
    gpus = [tf2.config.PhysicalDevice('/physical_device:GPU:0', 'GPU'),
            tf2.config.PhysicalDevice('/physical_device:GPU:1', 'GPU')]
    monkeypatch.setattr(precision.tf.config, 'list_physical_devices',
                        lambda kind=None: gpus if kind == 'GPU' else [])
    monkeypatch.setattr(precision.tf.config.experimental, 'get_device_details',
                        lambda device: {'device_name': 'NVIDIA A100'})
    assert precision.gpu_line() == '[i] GPUs: GPU:0 (NVIDIA A100), GPU:1 (NVIDIA A100)'


def test_a_cpu_machine_has_no_gpu_line():
    assert precision.gpu_line() is None
