"""Synthetic road scenes: a data set that needs no download, generated on first use.

The scenes come from roadseg/data/synthetic_scenes.py (scene i follows from (seed, i)
alone); this module is the data source around them, and a short example of one built on
`utils.ImageLabelSource`.

The scenes are written to `data_dir` as ordinary PNG photos and colour labels and then read
like any other data set. `<data_dir>/synthetic.json` holds the settings (written with the
defaults when missing; each key optional):

    {"image_size": [256, 96], "num_samples": 400, "seed": 0}

The files go to a folder named after image size, seed and generator version, so changed
settings never overwrite or delete earlier files, and a data set is generated once: a later
run reuses it and only writes files that are missing.
"""
import json
import os

from tqdm import tqdm

import utils
from roadseg.data.synthetic_scenes import (BUILDING, CAR, CLASS_NAMES, PERSON, ROAD, SIDEWALK, SKY,
                                           VEGETATION, VERSION, render_scene, scene_rng)

SETTINGS_FILE = 'synthetic.json'
DEFAULTS = {'image_size': [256, 96], 'num_samples': 400, 'seed': 0}

# Cityscapes' colours for the same classes, as (B, G, R).
LABEL_COLORS = {SKY: (180, 130, 70), ROAD: (128, 64, 128), SIDEWALK: (232, 35, 244),
                BUILDING: (70, 70, 70), VEGETATION: (35, 142, 107), CAR: (142, 0, 0),
                PERSON: (60, 20, 220)}


class SyntheticRoads(utils.ImageLabelSource):
    """Procedurally generated road scenes; image_size follows synthetic.json after loading."""

    image_size = tuple(DEFAULTS['image_size'])
    num_classes = len(CLASS_NAMES)
    class_names = list(CLASS_NAMES)
    label_colors = dict(LABEL_COLORS)

    def find_samples(self, data_dir, valid_fraction):
        """Generate what is missing, then pair the files and split them by seed."""
        settings = read_settings(data_dir)
        self.image_size = tuple(settings['image_size'])
        folder = os.path.join(data_dir, folder_name(settings))
        generate_missing(folder, settings)
        names = [f'{index:05d}.png' for index in range(settings['num_samples'])]
        images = [os.path.join(folder, 'images', name) for name in names]
        pairs = utils.collect_samples(images, label_path, 'synthetic')
        return utils.split_samples(pairs, valid_fraction, self.seed)


def get_source():
    """The synthetic road-scene data source (see roadseg/data/sources.py for the contract)."""
    return SyntheticRoads()


# ---------------------------------------------------------------------------------------------
# Settings and files
# ---------------------------------------------------------------------------------------------

def read_settings(data_dir):
    """The settings in <data_dir>/synthetic.json, with defaults for keys it leaves out.

    When the file is missing it is written with the defaults, which records what the data
    set is. Raises `UserError` for a file that is not valid JSON or has bad values.
    """
    if not data_dir:
        raise utils.UserError('no data directory given for the synthetic data set')
    utils.make_directory(data_dir, 'synthetic data directory')
    path = os.path.join(data_dir, SETTINGS_FILE)
    settings = dict(DEFAULTS)
    if os.path.exists(path):
        try:
            with open(path, encoding='utf-8') as file:
                given = json.load(file)
        except (OSError, ValueError) as error:
            raise utils.UserError(f'cannot read {path} ({error}); fix it or delete it to '
                                  f'use the defaults') from None
        if not isinstance(given, dict) or set(given) - set(DEFAULTS):
            raise utils.UserError(f'{path} must be a JSON object with some of the keys '
                                  f'{", ".join(DEFAULTS)}, e.g. {json.dumps(DEFAULTS)}')
        settings.update(given)
    else:
        write_settings(path, settings)
    check_settings(settings, path)
    return settings


def write_settings(path, settings):
    """Record the settings of a new data set in `path`."""
    try:
        with open(path, 'w', encoding='utf-8') as file:
            json.dump(settings, file)
            file.write('\n')
    except OSError as error:
        raise utils.UserError(f'cannot write {path}: {error.strerror or error}') from None


def check_settings(settings, path):
    """Raise `UserError` unless the settings describe a data set that can be generated."""
    size = settings['image_size']
    utils.check_image_size(tuple(size) if isinstance(size, list) else size, path)
    for key, lowest in (('num_samples', 1), ('seed', 0)):
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
            raise utils.UserError(f'{path}: {key} must be an integer of at least {lowest}, '
                                  f'not {value!r}')


def folder_name(settings):
    """Folder of one generation: what decides the pixels is in the name."""
    width, height = settings['image_size']
    return f'scenes-v{VERSION}-{width}x{height}-seed{settings["seed"]}'


def label_path(image_path):
    """The colour label that belongs to a generated photo."""
    folder, name = os.path.split(image_path)
    return os.path.join(os.path.dirname(folder), 'labels', name)


def generate_missing(folder, settings):
    """Write every photo and label of the data set that is not on disk yet.

    Scene i depends only on (seed, i), so a file written now equals the one an earlier,
    interrupted run would have written; files are written atomically.
    """
    width, height = settings['image_size']
    todo = []
    for index in range(settings['num_samples']):
        image_path = os.path.join(folder, 'images', f'{index:05d}.png')
        missing = [p for p in (image_path, label_path(image_path)) if not os.path.exists(p)]
        if missing:
            todo.append((index, image_path, missing))
    if not todo:
        return
    for part in ('images', 'labels'):
        utils.make_directory(os.path.join(folder, part), 'synthetic data folder')
    scenes = 'scene' if len(todo) == 1 else 'scenes'
    print(f'[i] Generating {len(todo)} synthetic road {scenes} ({width}x{height}, seed '
          f'{settings["seed"]}) in {folder}')
    for index, image_path, missing in tqdm(todo, desc='Generating', unit='scene'):
        image, classes = render_scene(scene_rng(settings['seed'], index), width, height)
        if image_path in missing:
            utils.write_image(image_path, image)
        if label_path(image_path) in missing:
            utils.write_image(label_path(image_path),
                              utils.class_map_to_colors(classes, LABEL_COLORS))
