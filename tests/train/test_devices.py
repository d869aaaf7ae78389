"""Data-parallel training over several devices (the CPU split into logical devices)."""
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import fcnvgg
from conftest import ROOT
from model_fixtures import write_vgg_zip
from roadseg.model import graph_check
from roadseg.predict import prediction
from scripts import TINY, run_script, write_tiny_synthetic

ONE_STEP = os.path.join(ROOT, 'tests', 'programs', 'one_step_on_replicas.py')


@pytest.mark.parametrize('backbone', ['scratch', 'savedmodel'])
def test_two_replicas_take_the_same_step_as_one(backbone, tmp_path):
    arguments = [backbone]
    if backbone == 'savedmodel':       # the vgg.zip backbone now trains on several devices
        _, written = write_vgg_zip(str(tmp_path), width=1 / 16)
        arguments.append(str(tmp_path))
    result = subprocess.run([sys.executable, ONE_STEP, *arguments], capture_output=True,
                            text=True, timeout=300, cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    assert result.returncode == 0, result.stderr[-3000:]
    values = json.loads(result.stdout.strip().splitlines()[-1])
    if backbone == 'savedmodel':       # both graphs started from the file's values
        np.testing.assert_array_equal(values['first_kernel'],
                                      written['conv1_1/weights'].ravel())
    assert values['variables'] == 2 * 15 + 2 * 3 + 3     # VGG16, scores, upsampling kernels
    assert values['changed'] > 1e-4                      # the step did move the variables
    assert values['difference'] < 1e-5
    assert values['loss2'] == pytest.approx(values['loss1'], abs=1e-5)
    assert values['averages_moved'] == [0.0, 0.0]        # no batch normalisation


def test_a_batch_normalised_vgg16_trains_on_two_replicas():
    result = subprocess.run([sys.executable, ONE_STEP, 'scratch-bn'], capture_output=True,
                            text=True, timeout=300, cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    assert result.returncode == 0, result.stderr[-3000:]
    values = json.loads(result.stdout.strip().splitlines()[-1])
    # VGG16 and the head, and gamma and beta of each of the 13 convolutions.
    assert values['variables'] == 2 * 15 + 2 * 3 + 3 + 2 * 13
    assert values['changed'] > 1e-4
    assert min(values['averages_moved']) > 1e-3          # both graphs updated the averages
    # Each device normalises its own half of the batch, so the steps differ a little.
    assert values['loss2'] == pytest.approx(values['loss1'], rel=0.05)


def class_maps(run_dir, samples, output):
    """Paint `samples` with infer.py --masks; return {name: class map}."""
    result = run_script('infer.py', '--name', run_dir, '--samples-dir', samples, '--output-dir',
                        output, '--masks')
    assert result.returncode == 0, result.stderr[-2000:]
    return {name: cv2.imread(os.path.join(output, name), cv2.IMREAD_UNCHANGED)
            for name in sorted(os.listdir(output)) if name.endswith('_classes.png')}


def test_checkpoints_move_between_device_counts(tmp_path):
    data_dir = write_tiny_synthetic(tmp_path / 'data')
    run_dir = str(tmp_path / 'run')
    two = run_script('main.py', *TINY, '--data-dir', data_dir, '--name', run_dir, '--epochs', '1',
                     '--devices', '2')
    assert two.returncode == 0, two.stderr[-3000:]
    assert "['/cpu:0', '/cpu:1']" in two.stdout
    settings = json.load(open(os.path.join(run_dir, 'settings.json')))
    assert settings['devices'] == ['/cpu:0', '/cpu:1']
    samples = tmp_path / 'photos'
    samples.mkdir()
    rng = np.random.RandomState(1)
    for index in range(3):
        cv2.imwrite(str(samples / f'{index}.png'), rng.randint(0, 255, [40, 80, 3], np.uint8))
    painted = class_maps(run_dir, samples, str(tmp_path / 'painted'))
    # The same checkpoint restored by variable names into a one-device graph paints the same.
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        model = fcnvgg.FCNVGG(session)
        fcnvgg.build_fcn8s(session, 7, fcnvgg.Backbone('scratch', widths=settings['widths']))
        tf.train.Saver().restore(session, tf.train.latest_checkpoint(run_dir))
        model.bind_tensors()
        predictor = prediction.Predictor(session, model, (64, 32))
        for index in range(3):
            image = cv2.imread(str(samples / f'{index}.png'))
            classes = predictor.predict([predictor.prepare(image)])[0].classes
            np.testing.assert_array_equal(classes, painted[f'{index}_classes.png'])
    one = run_script('main.py', '--name', run_dir, '--resume', '--epochs', '2', '--devices', '1')
    assert one.returncode == 0, one.stderr[-3000:]
    assert '[i] epoch 2/2' in one.stdout and "['/cpu:0']" in one.stdout
    back = run_script('main.py', '--name', run_dir, '--resume', '--epochs', '3', '--devices', '2')
    assert back.returncode == 0, back.stderr[-3000:]
    assert '[i] epoch 3/3' in back.stdout
    assert int(tf.train.load_variable(tf.train.latest_checkpoint(run_dir), 'epochs_done')) == 3


def free_ports(count):
    """Return `count` TCP ports on 127.0.0.1 that were free a moment ago."""
    import socket
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(('127.0.0.1', 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def test_two_workers_train_together_and_end_identical(tmp_path):
    from scripts import script_command
    data_dir = write_tiny_synthetic(tmp_path / 'data')
    workers = [f'127.0.0.1:{port}' for port in free_ports(2)]
    processes = []
    for index in range(2):
        tf_config = json.dumps({'cluster': {'worker': workers},
                                'task': {'type': 'worker', 'index': index}})
        # 11 training samples in batches of 8: two steps. Different seeds give the workers
        # different initial values, shuffles and flips: only training together (initial
        # values broadcast, gradients summed) can end with identical variables.
        command = script_command('main.py', *TINY, '--data-dir', data_dir, '--name',
                                 tmp_path / f'run{index}', '--epochs', '1', '--batch-size', '8',
                                 '--seed', index)
        processes.append(subprocess.Popen(command, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True, cwd=ROOT,
                                          env=dict(os.environ, TF_CONFIG=tf_config)))
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (stdout, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr[-3000:]
        assert 'worker' in stdout and '[i] epoch 1/1' in stdout
    checkpoints = [tf.train.latest_checkpoint(str(tmp_path / f'run{i}')) for i in range(2)]
    assert [os.path.basename(c) for c in checkpoints] == ['model-2', 'model-2']
    for checkpoint in checkpoints:      # a cluster's run is one infer.py may import
        graph_check.read_trusted_metagraph(checkpoint + '.meta')
    names = [n for n, _ in tf.train.list_variables(checkpoints[0])]
    assert names == [n for n, _ in tf.train.list_variables(checkpoints[1])]
    assert 'conv1_1/weights' in names and 'fcn8s/score_fc7/weights' in names
    for name in names:
        first, second = (tf.train.load_variable(c, name) for c in checkpoints)
        np.testing.assert_array_equal(first, second, err_msg=name)


def test_the_vgg_zip_backbone_trains_on_two_devices_and_resumes_on_one(tmp_path):
    _, written = write_vgg_zip(str(tmp_path / 'vgg'))
    data_dir = write_tiny_synthetic(tmp_path / 'data')
    run_dir = str(tmp_path / 'run')
    two = run_script('main.py', '--data-source', 'synthetic', '--data-dir', data_dir,
                     '--vgg-dir', tmp_path / 'vgg', '--batch-size', '4', '--epochs', '1',
                     '--name', run_dir, '--devices', '2')
    assert two.returncode == 0, two.stderr[-3000:]
    assert 'does not load' not in two.stdout             # no fallback to the imported graph
    settings = json.load(open(os.path.join(run_dir, 'settings.json')))
    assert settings['backbone'] == 'savedmodel' and settings['devices'] == ['/cpu:0', '/cpu:1']
    assert settings['widths']['fc6'] == written['fc6/weights'].shape[-1]
    one = run_script('main.py', '--name', run_dir, '--resume', '--epochs', '2', '--devices', '1')
    assert one.returncode == 0, one.stderr[-3000:]
    assert '[i] epoch 2/2' in one.stdout
