"""Pretrained VGG16 weight files: the vgg.zip SavedModel and Keras' HDF5, found, downloaded
(never passing off a partial file, never touching the user's files) and read."""
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT
from model_fixtures import keras_arrays, write_keras_h5, write_vgg_zip
from roadseg.core.errors import UserError
from roadseg.model import weight_files

PROGRAM = os.path.join(ROOT, 'tests', 'programs', 'build_offline.py')


def test_keras_fc1_lands_in_fc6_at_row_column_channel_unit(tmp_path):
    arrays = keras_arrays()
    path = write_keras_h5(str(tmp_path / 'w.h5'), arrays)
    fc6, _ = weight_files.read_keras_vgg16(path)['fc6']
    fc1 = arrays['fc1'][0]
    channels = arrays['block5_conv3'][0].shape[-1]
    for row, col, channel, unit in [(0, 0, 0, 0), (2, 5, 3, 7), (6, 1, channels - 1, 23)]:
        flat = (row * 7 + col) * channels + channel   # Keras' Flatten of [7, 7, C]
        assert fc6[row, col, channel, unit] == fc1[flat, unit]
    assert fc6.shape == (7, 7, channels, 24)


def test_the_published_keras_file_is_found_in_keras_cache(tmp_path, monkeypatch):
    monkeypatch.setenv('KERAS_HOME', str(tmp_path / 'keras'))
    os.makedirs(tmp_path / 'keras' / 'models')
    write_keras_h5(weight_files.keras_cache_path(), keras_arrays())
    # This narrow file stands for the published one: its own hash is what Keras publishes.
    digest = hashlib.md5(open(weight_files.keras_cache_path(), 'rb').read()).hexdigest()
    monkeypatch.setattr(weight_files, 'KERAS_H5_MD5', digest)
    monkeypatch.setattr(weight_files, 'fetch', pytest.fail)   # no download may start
    expected = tmp_path / 'keras' / 'models' / weight_files.KERAS_H5_NAME
    assert weight_files.keras_weights_path() == str(expected)


def test_a_keras_file_with_other_bytes_than_the_published_one_is_refused(tmp_path,
                                                                         monkeypatch):
    monkeypatch.setenv('KERAS_HOME', str(tmp_path / 'keras'))
    os.makedirs(tmp_path / 'keras' / 'models')
    write_keras_h5(weight_files.keras_cache_path(), keras_arrays())
    before = open(weight_files.keras_cache_path(), 'rb').read()
    monkeypatch.setattr(weight_files, 'fetch', pytest.fail)
    with pytest.raises(UserError, match=f'is not the published {weight_files.KERAS_H5_NAME}'
                                        f'.*published file\'s is 64373286793e3c8b2b4e3219cbf3544b'):
        weight_files.keras_weights_path()
    assert open(weight_files.keras_cache_path(), 'rb').read() == before   # kept, not deleted
    # Under another name the same bytes are the user's own weights: read as arrays.
    own = str(tmp_path / 'my_vgg16.h5')
    shutil.copy(weight_files.keras_cache_path(), own)
    assert weight_files.keras_weights_path(own) == own


def test_vgg_zip_is_extracted_where_the_archive_puts_it_and_user_files_stay(tmp_path):
    write_vgg_zip(str(tmp_path))
    (tmp_path / 'notes.txt').write_text('mine')
    (tmp_path / 'vgg').mkdir()
    (tmp_path / 'vgg' / 'README').write_text('also mine')
    model_dir = weight_files.savedmodel_dir(str(tmp_path))
    assert model_dir == str(tmp_path / 'vgg')
    for member in weight_files.VGG_ZIP_MEMBERS:
        assert (tmp_path / member).is_file()
    assert (tmp_path / 'notes.txt').read_text() == 'mine'
    assert (tmp_path / 'vgg' / 'README').read_text() == 'also mine'
    # Once extracted the archive is not needed again.
    os.remove(tmp_path / 'vgg.zip')
    assert weight_files.savedmodel_dir(str(tmp_path)) == model_dir


def test_truncated_archive_is_refused_and_kept(tmp_path):
    archive, _ = write_vgg_zip(str(tmp_path))
    data = open(archive, 'rb').read()
    open(archive, 'wb').write(data[:len(data) // 2])
    with pytest.raises(UserError, match='not a complete zip'):
        weight_files.savedmodel_dir(str(tmp_path))
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
    monkeypatch.setattr(weight_files, 'fetch', truncated_fetch)
    vgg_dir = tmp_path / 'vgg_dir'
    vgg_dir.mkdir()
    (vgg_dir / 'keep.txt').write_text('mine')
    with pytest.raises(UserError, match='is not usable'):
        weight_files.savedmodel_dir(str(vgg_dir))
    assert sorted(os.listdir(vgg_dir)) == ['keep.txt']


def test_download_writes_the_verified_archive(tmp_path, monkeypatch, capsys):
    source = tmp_path / 'source'
    source.mkdir()
    archive, _ = write_vgg_zip(str(source))

    def local_fetch(url, destination):
        assert url == weight_files.VGG_ZIP_URL
        with open(archive, 'rb') as src, open(destination + '.part', 'wb') as out:
            out.write(src.read())
        return destination + '.part'
    monkeypatch.setattr(weight_files, 'fetch', local_fetch)
    vgg_dir = tmp_path / 'vgg_dir'
    assert weight_files.savedmodel_dir(str(vgg_dir)) == str(vgg_dir / 'vgg')
    assert zipfile.is_zipfile(vgg_dir / 'vgg.zip')
    assert (vgg_dir / 'vgg' / 'saved_model.pb').is_file()
    assert not (vgg_dir / 'vgg.zip.part').exists()
    digest = hashlib.sha256(open(archive, 'rb').read()).hexdigest()
    assert f'[i] {vgg_dir / "vgg.zip"}: SHA-256 {digest}' in capsys.readouterr().out


@pytest.mark.parametrize('backbone', ['savedmodel', 'keras'])
def test_unreachable_download_gives_one_clear_line(tmp_path, backbone):
    vgg_dir = tmp_path / 'vgg_dir'
    vgg_dir.mkdir()
    (vgg_dir / 'keep.txt').write_text('mine')
    target = str(vgg_dir) if backbone == 'savedmodel' else str(vgg_dir / 'w.h5')
    result = subprocess.run([sys.executable, PROGRAM, backbone, target], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    url = weight_files.VGG_ZIP_URL if backbone == 'savedmodel' else weight_files.KERAS_H5_URL
    assert last.startswith('[!] cannot download ' + url)
    assert 'Network is unreachable' in last and 'by hand' in last
    assert '--vgg-init scratch' in last
    assert sorted(os.listdir(vgg_dir)) == ['keep.txt']
