"""Run settings (run_settings.py): defaults, what --resume keeps, checks and settings.json,
including the settings files of older runs."""
import dataclasses
import json
import os
import shutil

import pytest

from conftest import ROOT
from roadseg.core.errors import UserError
from roadseg.train import run_settings
from roadseg.train.run_settings import RunSettings

LEGACY_RUNS = os.path.join(ROOT, 'tests', 'legacy', 'runs_6d7777b')


def test_settings_round_trip_through_settings_json_with_their_defaults(tmp_path):
    run_dir = str(tmp_path / 'run')
    os.makedirs(run_dir)
    settings = run_settings.resolve({'name': run_dir, 'data_source': 'synthetic', 'epochs': 3})
    settings = dataclasses.replace(settings, num_classes=2, image_size=[64, 32],
                                   label_colors={0: (1, 2, 3), 1: (4, 5, 6)},
                                   class_names=['a', 'b'], widths={'conv1_1': 4})
    run_settings.write_settings(run_dir, settings)
    assert run_settings.read_settings(run_dir) == settings
    written = json.loads((tmp_path / 'run' / 'settings.json').read_text())
    assert set(written) == set(run_settings.FIELDS)
    assert written['label_colors'] == {'0': [1, 2, 3], '1': [4, 5, 6]}
    # Defaults where nothing was given; the data folder derived from the data source.
    assert (written['batch_size'], written['learning_rate'], written['keep_prob']) == \
        (8, 1e-4, 0.5)
    assert written['data_dir'] == 'data/synthetic'
    # Nothing of the run is named absolutely: a copy of the folder is a whole run.
    assert (written['name'], written['tensorboard_dir']) == ('run', 'tensorboard')


def test_a_copied_run_points_into_the_copy(tmp_path):
    original, copy = str(tmp_path / 'original'), str(tmp_path / 'copy')
    os.makedirs(original)
    settings = run_settings.resolve({'name': original})
    run_settings.write_settings(original, settings)
    shutil.copytree(original, copy)
    copied = run_settings.read_settings(copy)
    assert (copied.name, copied.tensorboard_dir) == (copy, os.path.join(copy, 'tensorboard'))
    # A TensorBoard folder the user put elsewhere stays where it is.
    elsewhere = str(tmp_path / 'events')
    run_settings.write_settings(original, dataclasses.replace(settings,
                                                              tensorboard_dir=elsewhere))
    assert run_settings.read_settings(original).tensorboard_dir == elsewhere


@pytest.mark.parametrize('name', ['/old/place/run', 'runs/run'])
def test_older_settings_files_are_relocated_too(tmp_path, name):
    (tmp_path / 'settings.json').write_text(json.dumps(
        {'name': name, 'tensorboard_dir': f'{name}/tensorboard', 'data_source': 'kitti'}))
    settings = run_settings.read_settings(str(tmp_path))
    assert settings.tensorboard_dir == str(tmp_path / 'tensorboard')
    assert settings.name == str(tmp_path)


def test_missing_keys_take_their_defaults_and_unknown_keys_are_ignored():
    settings = run_settings.from_json({'data_source': 'kitti', 'vgg_init': 'scratch',
                                       'resume': False})
    assert settings == RunSettings(data_source='kitti', version=1)


@pytest.mark.parametrize('kind,backbone', [('scratch', 'scratch'), ('vggzip', 'savedmodel')])
def test_settings_of_older_runs_are_read(kind, backbone):
    settings = run_settings.read_settings(os.path.join(LEGACY_RUNS, kind))
    assert settings.backbone == backbone
    assert settings.image_size == [576, 160] and settings.num_classes == 2
    assert settings.label_colors == {0: (0, 0, 255), 1: (255, 0, 255)}
    assert settings.valid_fraction == 0.34 and settings.ignores_pixels is True
    assert settings.class_names == ['background', 'road']
    assert (settings.widths is None) == (kind == 'vggzip')


def test_resume_keeps_the_recorded_settings_unless_given_again():
    recorded = RunSettings(name='runs/x', data_source='synthetic', data_dir='d', batch_size=2,
                           learning_rate=3e-4, backbone='scratch', epochs=6, vgg_dir='v',
                           widths={'fc7': 8})
    resumed = run_settings.resolve({'name': 'runs/x', 'learning_rate': 1e-3}, recorded)
    assert (resumed.data_source, resumed.data_dir, resumed.batch_size) == ('synthetic', 'd', 2)
    assert resumed.backbone == 'scratch' and resumed.widths == {'fc7': 8}
    assert resumed.learning_rate == 1e-3                 # given again
    assert resumed.epochs == 6                           # kept: --resume goes on to it
    assert resumed.vgg_dir == RunSettings().vgg_dir
    assert set(run_settings.KEPT_ON_RESUME) <= set(run_settings.FIELDS)


@pytest.mark.parametrize('field,value,message', [
    ('epochs', 0, '--epochs must be at least 1'),
    ('batch_size', 0, '--batch-size must be at least 1'),
    ('keep_prob', 0.0, '--keep-prob'),
    ('learning_rate', -1.0, '--learning-rate must be positive'),
    ('vgg_width', 5.0, '--vgg-width'),
    ('time_budget', -5.0, '--time-budget must be minutes of training, 0 or more, not -5.0'),
    ('train_splits', [], '--train-splits names no split'),
])
def test_values_no_run_can_use_are_refused(field, value, message):
    RunSettings().check()
    with pytest.raises(UserError, match=message):
        dataclasses.replace(RunSettings(), **{field: value}).check()


def test_unreadable_settings_are_one_clear_error(tmp_path):
    with pytest.raises(UserError, match='no run directory'):
        run_settings.read_settings(str(tmp_path / 'missing'))
    (tmp_path / 'settings.json').write_text('[1, 2]')
    with pytest.raises(UserError, match='not a JSON object'):
        run_settings.read_settings(str(tmp_path))
    (tmp_path / 'settings.json').write_text('{broken')
    with pytest.raises(UserError, match='cannot read the run settings'):
        run_settings.read_settings(str(tmp_path))


def test_run_directories_are_told_from_other_folders(tmp_path):
    assert run_settings.is_run_directory(os.path.join(LEGACY_RUNS, 'scratch'))
    assert not run_settings.is_run_directory(str(tmp_path))
    (tmp_path / 'checkpoint').write_text('')
    assert run_settings.is_run_directory(str(tmp_path))
