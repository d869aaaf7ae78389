"""Files from others never run code (roadseg/model/graph_check.py): hostile weight files
and shared runs, built here the way an attacker would, with TensorFlow alone, are refused
with one `[!]` line naming the op before anything of them runs; their clean twins work."""
import glob
import hashlib
import json
import os
import shutil

import cv2
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from model_fixtures import write_vgg_zip
from scripts import last_line, run_script, write_tiny_synthetic

# The synthetic source on a narrow vgg.zip: the default backbone, from --vgg-dir.
ON_VGG_ZIP = ['--data-source', 'synthetic', '--batch-size', '4', '--epochs', '1']


def write_file_payload(marker):
    """Return payload(x): x, once a WriteFile op has written `marker`."""
    def payload(x):
        write = tf.io.write_file(marker, 'this ran')
        with tf.control_dependencies([write]):
            return tf.identity(x)
    return payload


def py_func_payload(marker):
    """Return payload(x): x plus the result of a Python function that writes `marker`."""
    def payload(x):
        def touch():
            with open(marker, 'w') as handle:
                handle.write('this ran')
            return np.float32(0)
        return x + tf.py_func(touch, [], tf.float32, stateful=True)
    return payload


def hostile_vgg_dir(tmp_path, payload):
    """A --vgg-dir holding a narrow vgg.zip whose layer7_out path carries `payload`."""
    vgg_dir = tmp_path / 'vgg'
    vgg_dir.mkdir()
    archive, _ = write_vgg_zip(str(tmp_path / 'build'), payload=payload)
    shutil.copy(archive, vgg_dir / 'vgg.zip')
    return vgg_dir


def assert_refused(result, op, marker):
    """The command stopped with one `[!]` line naming `op`, and the payload never ran."""
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert 'Traceback' not in result.stderr
    line = last_line(result.stderr)
    assert line.startswith('[!] ') and f'holds a {op} op' in line, line
    assert 'refused before anything of the file ran' in line
    assert not os.path.exists(marker)


@pytest.mark.parametrize('kind, op', [('write_file', 'WriteFile'), ('py_func', 'PyFunc')])
def test_a_hostile_vgg_zip_is_refused_before_it_runs(tmp_path, kind, op):
    marker = str(tmp_path / 'marker')
    payload = {'write_file': write_file_payload, 'py_func': py_func_payload}[kind](marker)
    vgg_dir = hostile_vgg_dir(tmp_path, payload)
    assert not os.path.exists(marker)
    data_dir = write_tiny_synthetic(tmp_path / 'data', num_samples=8)
    result = run_script('main.py', *ON_VGG_ZIP, '--data-dir', data_dir, '--vgg-dir', vgg_dir,
                        '--name', tmp_path / 'run')
    assert_refused(result, op, marker)
    assert 'saved_model.pb' in last_line(result.stderr)
    assert not glob.glob(str(tmp_path / 'run' / 'model-*'))


def test_the_clean_twin_of_the_hostile_vgg_zip_trains(tmp_path):
    vgg_dir = hostile_vgg_dir(tmp_path, None)
    data_dir = write_tiny_synthetic(tmp_path / 'data', num_samples=8)
    result = run_script('main.py', *ON_VGG_ZIP, '--data-dir', data_dir, '--vgg-dir', vgg_dir,
                        '--name', tmp_path / 'run')
    assert result.returncode == 0, result.stderr[-3000:]
    assert '[i] epoch 1/1' in result.stdout
    assert glob.glob(str(tmp_path / 'run' / 'model-*.index'))
    with open(tmp_path / 'run' / 'settings.json') as handle:
        recorded = json.load(handle)['weights_sha256']
    assert recorded == hashlib.sha256((vgg_dir / 'vgg.zip').read_bytes()).hexdigest()


def add_write_file(meta_path, marker, target='classes'):
    """Give the node `target` of a checkpoint's metagraph a control input on a new WriteFile
    op that writes `marker`, as an attacker would edit a shared run."""
    metagraph = tf.MetaGraphDef()
    with open(meta_path, 'rb') as handle:
        metagraph.ParseFromString(handle.read())
    payload = tf.Graph()
    with payload.as_default():
        tf.io.write_file(tf.constant(marker, name='evil/path'),
                         tf.constant('this ran', name='evil/text'), name='evil/write')
    metagraph.graph_def.node.extend(payload.as_graph_def().node)
    node = next(n for n in metagraph.graph_def.node if n.name == target)
    node.input.append('^evil/write')
    with open(meta_path, 'wb') as handle:
        handle.write(metagraph.SerializeToString())


@pytest.fixture
def hostile_run(trained_run, tmp_path):
    """A copy of the trained run whose every metagraph writes a marker when classes:0 runs:
    (run directory, data directory, marker path)."""
    run_dir = str(tmp_path / 'run')
    shutil.copytree(trained_run[0], run_dir)
    marker = str(tmp_path / 'marker')
    for meta in glob.glob(os.path.join(run_dir, '*.meta')):
        add_write_file(meta, marker)
    return run_dir, trained_run[1], marker


def photos_folder(tmp_path):
    """A folder with one photo to paint."""
    photos = tmp_path / 'photos'
    photos.mkdir()
    cv2.imwrite(str(photos / 'a.png'), np.full((32, 64, 3), 120, np.uint8))
    return photos


@pytest.mark.parametrize('command', ['resume', 'paint', 'evaluate', 'export', 'export-onnx'])
def test_a_run_whose_graph_writes_a_file_is_refused(hostile_run, tmp_path, command):
    run_dir, _, marker = hostile_run
    args = {'resume': ('main.py', '--name', run_dir, '--resume', '--epochs', '3'),
            'paint': ('infer.py', '--name', run_dir, '--samples-dir', photos_folder(tmp_path),
                      '--output-dir', tmp_path / 'out'),
            'evaluate': ('infer.py', '--name', run_dir, '--evaluate', '--output-dir',
                         tmp_path / 'out'),
            'export': ('infer.py', '--name', run_dir, '--export', tmp_path / 'out'),
            'export-onnx': ('infer.py', '--name', run_dir, '--export', tmp_path / 'out',
                            '--export-format', 'onnx')}[command]
    result = run_script(*args)
    assert_refused(result, 'WriteFile', marker)
    assert '.meta' in last_line(result.stderr) and 'evil/write' in last_line(result.stderr)
    assert not os.path.exists(tmp_path / 'out')
