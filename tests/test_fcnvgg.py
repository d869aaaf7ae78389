"""FCN-8s on VGG16: the three backbone providers, the head, the loss, save and restore."""
import os
import subprocess
import sys
import urllib.error
import zipfile

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import download
import fcnvgg
import utils
from conftest import ROOT
from vgg_files import WIDTH, keras_arrays, write_keras_h5, write_vgg_zip

NUM_CLASSES = 3
BATCH, HEIGHT, IMAGE_WIDTH = 2, 64, 96


def fixed_batch(seed=0):
    """Return one batch of images and one-hot labels: three colour bands, some don't-care."""
    rng = np.random.RandomState(seed)
    band = np.minimum(np.arange(HEIGHT) * NUM_CLASSES // HEIGHT, NUM_CLASSES - 1)
    classes = np.broadcast_to(band[None, :, None], [BATCH, HEIGHT, IMAGE_WIDTH])
    colours = np.array([[200, 60, 60], [60, 200, 60], [60, 60, 200]], np.float32)
    images = colours[classes] + rng.normal(0, 20, [BATCH, HEIGHT, IMAGE_WIDTH, 3])
    labels = np.eye(NUM_CLASSES, dtype=np.float32)[classes]
    labels[:, :, :20] = 0          # a don't-care band
    return images.astype(np.float32), labels


def pretrained_files(backbone, directory):
    """Write the provider's files; return (build kwargs, {variable name: expected value})."""
    if backbone == 'savedmodel':
        _, values = write_vgg_zip(str(directory))
        return {'vgg_dir': str(directory)}, values
    if backbone == 'keras':
        arrays = keras_arrays()
        path = write_keras_h5(str(directory / 'weights.h5'), arrays)
        expected = {}
        for keras_name, name in fcnvgg.KERAS_LAYERS.items():
            kernel, bias = arrays[keras_name]
            expected[f'{name}/biases'] = bias
            if name == 'conv1_1':
                expected[f'{name}/weights'] = kernel
        return {'vgg_dir': None, 'weights_file': path}, expected
    return {'vgg_dir': None, 'width': WIDTH}, {}


@pytest.fixture(params=fcnvgg.BACKBONES)
def built(request, tmp_path):
    """A model built from each provider's files, with its optimizer and expected values."""
    kwargs, expected = pretrained_files(request.param, tmp_path)
    graph = tf.Graph()
    with graph.as_default():
        session = tf.Session(graph=graph)
        tf.set_random_seed(0)
        model = fcnvgg.FCNVGG(session)
        model.build_from_vgg(num_classes=NUM_CLASSES, backbone=request.param, **kwargs)
        labels = tf.placeholder(tf.float32, [None, None, None, NUM_CLASSES])
        train_op, loss = model.get_optimizer(labels, learning_rate=1e-3)
        yield request.param, session, model, labels, train_op, loss, expected
        session.close()


def test_logits_softmax_and_classes(built):
    _, session, model, _, _, _, _ = built
    images, _ = fixed_batch()
    logits, softmax, classes = session.run([model.logits, model.softmax, model.classes],
                                           {model.image_input: images})
    assert logits.shape == (BATCH, HEIGHT, IMAGE_WIDTH, NUM_CLASSES)
    np.testing.assert_allclose(softmax.sum(axis=-1), 1.0, atol=1e-5)
    assert classes.shape == (BATCH, HEIGHT, IMAGE_WIDTH)
    np.testing.assert_array_equal(classes, logits.argmax(axis=-1))
    assert model.num_classes == NUM_CLASSES


def test_pretrained_values_survive_initialisation(built):
    backbone, session, _, _, _, _, expected = built
    if backbone == 'scratch':
        pytest.skip('nothing pretrained to keep')
    by_name = {v.op.name: v for v in tf.global_variables()}
    assert len(expected) >= 16
    for name, value in expected.items():
        np.testing.assert_array_equal(session.run(by_name[name]), value, err_msg=name)


def test_twenty_adam_steps_lower_the_loss(built):
    _, session, model, labels, train_op, loss, _ = built
    images, targets = fixed_batch()
    feed = {model.image_input: images, labels: targets}
    first = session.run(loss, feed)
    for _ in range(20):
        session.run(train_op, feed)
    assert session.run(loss, feed) < 0.95 * first
    assert session.run(tf.train.get_global_step()) == 20


def test_keras_fc1_lands_in_fc6_at_row_column_channel_unit(tmp_path):
    arrays = keras_arrays()
    path = write_keras_h5(str(tmp_path / 'w.h5'), arrays)
    fc6, _ = fcnvgg.read_keras_vgg16(path)['fc6']
    fc1 = arrays['fc1'][0]
    channels = arrays['block5_conv3'][0].shape[-1]
    for row, col, channel, unit in [(0, 0, 0, 0), (2, 5, 3, 7), (6, 1, channels - 1, 23)]:
        flat = (row * 7 + col) * channels + channel   # Keras' Flatten of [7, 7, C]
        assert fc6[row, col, channel, unit] == fc1[flat, unit]
    assert fc6.shape == (7, 7, channels, 24)


def test_keras_weights_found_in_keras_cache(tmp_path, monkeypatch):
    monkeypatch.setenv('KERAS_HOME', str(tmp_path / 'keras'))
    os.makedirs(tmp_path / 'keras' / 'models')
    write_keras_h5(fcnvgg.keras_cache_path(), keras_arrays())
    monkeypatch.setattr(download, 'fetch', pytest.fail)   # no download may start
    assert fcnvgg.keras_weights_path() == str(tmp_path / 'keras' / 'models' / fcnvgg.KERAS_H5_NAME)


def test_dont_care_pixels_change_neither_loss_nor_gradient():
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        model = fcnvgg.FCNVGG(session)
        model.build_from_vgg(None, NUM_CLASSES, backbone='scratch', width=WIDTH)
        labels = tf.placeholder(tf.float32, [None, None, None, NUM_CLASSES])
        _, loss = model.get_optimizer(labels)
        gradients = tf.gradients(loss, tf.trainable_variables())
        images, targets = fixed_batch()
        logits = session.run(model.logits, {model.image_input: images})
        dont_care = targets.sum(axis=-1) == 0
        changed = logits.copy()
        changed[dont_care] += np.random.RandomState(3).normal(0, 50, changed[dont_care].shape)

        def loss_and_gradients(fed_logits):
            return session.run([loss, gradients], {model.image_input: images, labels: targets,
                                                   model.logits: fed_logits})
        base_loss, base_gradients = loss_and_gradients(logits)
        new_loss, new_gradients = loss_and_gradients(changed)
        assert new_loss == pytest.approx(base_loss, abs=1e-6)
        for base, new in zip(base_gradients, new_gradients):
            np.testing.assert_allclose(new, base, atol=1e-6)
        # The same change on labelled pixels does move the loss: the test can fail.
        cared = logits.copy()
        cared[~dont_care] += np.random.RandomState(3).normal(0, 50, cared[~dont_care].shape)
        assert abs(loss_and_gradients(cared)[0] - base_loss) > 1e-3
        # The loss is the mean over labelled pixels only.
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_softmax = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        expected = -(targets * log_softmax).sum(axis=-1)[~dont_care].mean()
        assert base_loss == pytest.approx(expected, rel=1e-4)


def test_saved_model_restores_from_metagraph_with_identical_class_maps(tmp_path):
    images, targets = fixed_batch()
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        tf.set_random_seed(1)   # some seeds predict one class everywhere after 3 steps
        model = fcnvgg.FCNVGG(session)
        model.build_from_vgg(None, NUM_CLASSES, backbone='scratch', width=WIDTH)
        labels = tf.placeholder(tf.float32, [None, None, None, NUM_CLASSES])
        train_op, _ = model.get_optimizer(labels, 1e-3)
        for _ in range(3):
            session.run(train_op, {model.image_input: images, labels: targets})
        expected = session.run(model.classes, {model.image_input: images})
        checkpoint = tf.train.Saver().save(session, str(tmp_path / 'run' / 'e3.ckpt'))
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        restored = fcnvgg.FCNVGG(session)
        restored.build_from_metagraph(checkpoint + '.meta', checkpoint)
        classes = session.run(restored.classes, {restored.image_input: images})
    np.testing.assert_array_equal(classes, expected)
    assert len(np.unique(expected)) > 1


def test_missing_checkpoint_is_a_user_error(tmp_path):
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        with pytest.raises(utils.UserError, match='missing checkpoint file'):
            fcnvgg.FCNVGG(session).build_from_metagraph(str(tmp_path / 'x.meta'),
                                                        str(tmp_path / 'x'))


def test_vgg_zip_is_extracted_where_the_archive_puts_it_and_user_files_stay(tmp_path):
    write_vgg_zip(str(tmp_path))
    (tmp_path / 'notes.txt').write_text('mine')
    (tmp_path / 'vgg').mkdir()
    (tmp_path / 'vgg' / 'README').write_text('also mine')
    model_dir = fcnvgg.savedmodel_dir(str(tmp_path))
    assert model_dir == str(tmp_path / 'vgg')
    for member in fcnvgg.VGG_ZIP_MEMBERS:
        assert (tmp_path / member).is_file()
    assert (tmp_path / 'notes.txt').read_text() == 'mine'
    assert (tmp_path / 'vgg' / 'README').read_text() == 'also mine'
    # Once extracted the archive is not needed again.
    os.remove(tmp_path / 'vgg.zip')
    assert fcnvgg.savedmodel_dir(str(tmp_path)) == model_dir


def test_truncated_archive_is_refused_and_kept(tmp_path):
    archive, _ = write_vgg_zip(str(tmp_path))
    data = open(archive, 'rb').read()
    open(archive, 'wb').write(data[:len(data) // 2])
    with pytest.raises(utils.UserError, match='not a complete zip'):
        fcnvgg.savedmodel_dir(str(tmp_path))
    assert not (tmp_path / 'vgg').exists()
    assert os.path.getsize(archive) == len(data) // 2


def test_truncated_download_never_passes_as_a_model(tmp_path, monkeypatch):
    source = tmp_path / 'source'
    source.mkdir()
    archive, _ = write_vgg_zip(str(source))
    data = open(archive, 'rb').read()

    def truncated_fetch(url, destination):
        with open(destination + '.part', 'wb') as out:
            out.write(data[:len(data) // 3])
        return destination + '.part'
    monkeypatch.setattr(download, 'fetch', truncated_fetch)
    vgg_dir = tmp_path / 'vgg_dir'
    vgg_dir.mkdir()
    (vgg_dir / 'keep.txt').write_text('mine')
    with pytest.raises(utils.UserError, match='is not usable'):
        fcnvgg.savedmodel_dir(str(vgg_dir))
    assert sorted(os.listdir(vgg_dir)) == ['keep.txt']


def test_download_writes_the_verified_archive(tmp_path, monkeypatch):
    source = tmp_path / 'source'
    source.mkdir()
    archive, _ = write_vgg_zip(str(source))

    def local_fetch(url, destination):
        assert url == fcnvgg.VGG_ZIP_URL
        with open(archive, 'rb') as src, open(destination + '.part', 'wb') as out:
            out.write(src.read())
        return destination + '.part'
    monkeypatch.setattr(download, 'fetch', local_fetch)
    vgg_dir = tmp_path / 'vgg_dir'
    assert fcnvgg.savedmodel_dir(str(vgg_dir)) == str(vgg_dir / 'vgg')
    assert zipfile.is_zipfile(vgg_dir / 'vgg.zip')
    assert (vgg_dir / 'vgg' / 'saved_model.pb').is_file()
    assert not (vgg_dir / 'vgg.zip.part').exists()


OFFLINE_SCRIPT = '''
import sys, urllib.error
import download, fcnvgg, utils
import tensorflow.compat.v1 as tf

def offline(url, destination):
    open(destination + '.part', 'wb').write(b'partial')
    raise urllib.error.URLError('[Errno 101] Network is unreachable')

download.fetch = offline
backbone, target = sys.argv[1], sys.argv[2]
kwargs = {'weights_file': target} if backbone == 'keras' else {}
with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
    utils.run_script(lambda: fcnvgg.FCNVGG(session).build_from_vgg(
        target, 2, backbone=backbone, **kwargs))
'''


@pytest.mark.parametrize('backbone', ['savedmodel', 'keras'])
def test_unreachable_download_gives_one_clear_line(tmp_path, backbone):
    vgg_dir = tmp_path / 'vgg_dir'
    vgg_dir.mkdir()
    (vgg_dir / 'keep.txt').write_text('mine')
    target = str(vgg_dir) if backbone == 'savedmodel' else str(vgg_dir / 'w.h5')
    result = subprocess.run([sys.executable, '-c', OFFLINE_SCRIPT, backbone, target], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    url = fcnvgg.VGG_ZIP_URL if backbone == 'savedmodel' else fcnvgg.KERAS_H5_URL
    assert last.startswith('[!] cannot download ' + url)
    assert 'Network is unreachable' in last and 'by hand' in last
    assert '--vgg-init scratch' in last
    assert sorted(os.listdir(vgg_dir)) == ['keep.txt']


def test_fc6_by_matmul_equals_the_convolution():
    rng = np.random.RandomState(5)
    x = rng.normal(0, 1, [2, 3, 8, 16]).astype(np.float32)
    weights = rng.normal(0, 0.1, [7, 7, 16, 24]).astype(np.float32)
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        by_matmul = fcnvgg.conv2d_by_matmul(tf.constant(x), tf.constant(weights))
        convolved = tf.nn.conv2d(tf.constant(x), tf.constant(weights), 1, 'SAME')
        got, expected = session.run([by_matmul, convolved])
    assert got.shape == (2, 3, 8, 24)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_loss_scaled_optimizer_for_fp16_still_learns():
    # fp16 needs a GPU, but its dynamic loss scaling is plain graph code: check it on the CPU.
    images, targets = fixed_batch()
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        model = fcnvgg.FCNVGG(session)
        model.build_from_vgg(None, NUM_CLASSES, backbone='scratch', width=WIDTH)
        labels = tf.placeholder(tf.float32, [None, None, None, NUM_CLASSES])
        train_op, loss = model.get_optimizer(labels, 1e-3, loss_scale=True)
        assert any('loss_scale' in v.op.name for v in tf.global_variables())
        feed = {model.image_input: images, labels: targets}
        first = session.run(loss, feed)
        for _ in range(10):
            session.run(train_op, feed)
        assert session.run(loss, feed) < 0.95 * first
