"""The data-source contract: finding `source_<name>.py`, checking what it gives, and reading
its optional attributes.

A data source is a module `source_<name>.py` whose `get_source()` returns an object with the
REQUIRED attributes, and after `load_data(data_dir, valid_fraction)` the LOADED ones. Each
generator call returns one epoch of (images float32 [B, H, W, 3] BGR 0..255, labels float32
one-hot [B, H, W, num_classes]) batches. Everything in OPTIONAL may be left out; the scripts
read it only through `optional` and set it only through `set_optional`.
"""
import contextlib
import importlib
import os
import pkgutil
import re
import sys

from roadseg.core.checks import check_image_size, is_color, is_int
from roadseg.core.errors import UserError

SOURCE_PREFIX = 'source_'
SOURCE_NAME = re.compile(r'[a-z0-9_]+')
REQUIRED = ('image_size', 'num_classes', 'label_colors', 'load_data')
LOADED = ('num_training', 'num_validation', 'train_generator', 'valid_generator')
# Optional attributes and what a source without them means.
OPTIONAL = {
    'class_names': None,      # [name of class 0, ...], shown in reports
    'ignores_pixels': False,  # True: all-zero label rows are "don't care", not errors
    'label_ids': None,        # each class's official Cityscapes label id, for its score
    'seed': None,             # set from --seed before load_data: split, shuffles, flips
    'epoch': None,            # set to the next epoch's number when a run resumes
    'train_files': None,      # [(image path, label path)] of the training split
    'valid_files': None,      # the same for the validation split
    'read_label': None,       # read_label(label path, image=None) -> class map [H, W] at
                              # the file's size (-1: don't care), for scores at each
                              # photo's size; `image`: the file already decoded
    'benchmark': None,        # 'cityscapes', 'kitti_road' or 'camvid': official score,
                              # submission files
    'evaluation_splits': None,  # names of the data's own splits that can be scored
                              # (infer.py --split), e.g. ('val', 'test')
    'evaluation_split': None,   # set to one of them before load_data: the validation pairs
                              # then come from that split
    'train_splits': None,     # the data's own splits the training pairs come from, e.g.
                              # ('train',); main.py --train-splits sets it before load_data
                              # to names from it and `evaluation_splits`
    'invalid_label_values': None,  # invalid_label_values(label path) -> {value: pixels}
                              # that the source reads as don't care but no valid file holds;
                              # check_data_source.py reports them
    'validation_only': None,  # set True before load_data: every sample is for scoring
    'augmentation': None,     # an augmentation.Augmentation for the training split, set
                              # by main.py (ImageLabelSource has it)
}
# Optional attributes of what a generator call returns (utils.EpochBatches has both), which
# let check_data_source.py name the file of a bad sample and un-mirror its coordinates.
OPTIONAL_OF_BATCHES = {
    'files': None,            # [(image path, label path)] in the order the samples come
    'flipped': None,          # [True for each sample that is mirrored left-right]
}
# The scripts and the data sources sit at the top of the repository, two floors above this.
SCRIPT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONTRACT_HINT = 'see "Data sources" in README.md'


def optional(source, name):
    """Return the source's optional attribute `name`, or the OPTIONAL default it lacks."""
    return getattr(source, name, OPTIONAL[name])


def optional_of_batches(batches, name):
    """Return the optional attribute `name` of a generator's batches, or its default."""
    return getattr(batches, name, OPTIONAL_OF_BATCHES[name])


def set_optional(source, name, value):
    """Set the optional attribute `name` where the source has it; return whether it does."""
    if not hasattr(source, name):
        return False
    setattr(source, name, value)
    return True


def class_names(source):
    """Return a name per class: the source's `class_names`, else 'class 0', 'class 1', ..."""
    return list(optional(source, 'class_names') or
                [f'class {c}' for c in range(source.num_classes)])


def available_sources():
    """Return the names of the data sources (`source_<name>.py`) beside the scripts and on
    the Python path."""
    paths = [SCRIPT_DIR] + [path for path in sys.path if os.path.isdir(path or '.')]
    names = set()
    for module in pkgutil.iter_modules(paths):
        name = module.name[len(SOURCE_PREFIX):]
        if module.name.startswith(SOURCE_PREFIX) and SOURCE_NAME.fullmatch(name):
            names.add(name)
    return sorted(names)


def load_data_source(name):
    """Import `source_<name>` and return its `get_source()`, checked against the contract.

    A bad name, a missing module, a module without `get_source`, a missing contract attribute
    or an image_size that is not a multiple of 32 raise `UserError` naming the problem.
    """
    listing = f'available: {", ".join(available_sources()) or "none"}'
    if not isinstance(name, str) or not SOURCE_NAME.fullmatch(name):
        raise UserError(f'invalid data source name {name!r}: use lower-case letters, digits and '
                        f'underscores, as in source_<name>.py ({listing})')
    module_name = SOURCE_PREFIX + name
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise UserError(f'data source {name!r} needs the Python module {error.name!r}, which '
                            f'is not installed; install it and try again') from None
        raise UserError(f'unknown data source {name!r}: there is no {module_name}.py next to the '
                        f'scripts or on the Python path ({listing})') from None
    get_source = getattr(module, 'get_source', None)
    if not callable(get_source):
        raise UserError(f'{module.__file__} has no get_source() function: a data source module '
                        f'defines get_source() returning the source object ({CONTRACT_HINT})')
    source = get_source()
    check_source(source, name)
    return source


def load_source_data(name, data_dir, valid_fraction, seed=0, validation_only=False,
                     for_training=True, split=None, train_splits=None):
    """Return data source `name` with its data loaded from `data_dir` and checked.

    The source's optional `seed` (split, shuffles, flips) is set first, and with
    `validation_only` its optional `validation_only`: every sample is for scoring; `split`
    picks one of the source's `evaluation_splits` as its validation pairs, `train_splits`
    the splits its training pairs come from (see choose_train_splits). Without
    `for_training`, a folder with no training samples is fine (one to score). A
    bare-contract source's OSError (a missing folder, say) becomes one `UserError` line.
    """
    source = load_data_source(name)
    set_optional(source, 'seed', seed)
    if validation_only:
        set_optional(source, 'validation_only', True)
    if split is not None:
        choose_split(source, name, split)
    if train_splits is not None:
        choose_train_splits(source, name, train_splits)
    try:
        source.load_data(data_dir, valid_fraction)
    except UserError:
        raise
    except Exception as error:   # the source's own code: a missing folder, a bug
        raise UserError(f'cannot load {name} data from {data_dir}: '
                        f'{type(error).__name__}: {error}') from None
    check_loaded_source(source, name, for_training)
    return source


def choose_split(source, name, split):
    """Make the source's validation pairs come from its split `split`; `UserError` when
    the source has no such split."""
    splits = optional(source, 'evaluation_splits')
    if not splits:
        raise UserError(f'data source {name!r} has no named splits to choose from: leave out '
                        '--split (it scores its validation split)')
    if split not in splits:
        raise UserError(f'data source {name!r} has no split {split!r}: use one of '
                        f'{", ".join(splits)}')
    set_optional(source, 'evaluation_split', split)


def choose_train_splits(source, name, splits):
    """Make the source's training pairs come from its splits `splits` (names from its
    `train_splits` and `evaluation_splits`, each once); `UserError` when it has no named
    splits to train on or lacks one of them."""
    default = optional(source, 'train_splits')
    if not default:
        raise UserError(f'data source {name!r} has no named splits to train on: leave out '
                        '--train-splits (it trains on its own training split)')
    known = list(dict.fromkeys(list(default) + list(optional(source, 'evaluation_splits') or ())))
    unknown = [split for split in splits if split not in known]
    if unknown:
        raise UserError(f'data source {name!r} has no split {", ".join(unknown)} to train '
                        f'on: use some of {", ".join(known)}')
    set_optional(source, 'train_splits', tuple(dict.fromkeys(splits)))


def warn_if_trained_on(source, train_splits):
    """Print one [!] line when the source's validation pairs come from one of the splits
    `train_splits` a run trained on: their scores are then not of unseen photos."""
    scored = optional(source, 'evaluation_split')
    if scored and scored in (train_splits or ()):
        print(f'[!] the {scored} split scored here is one the run trains on '
              f'(--train-splits {",".join(train_splits)}): its scores are not of unseen '
              'photos', file=sys.stderr)


@contextlib.contextmanager
def source_errors(name, split):
    """Within `with`, an exception from a data source's own code (a file that vanished, a
    bug) becomes one `UserError` line naming the source, the split and the error."""
    try:
        yield
    except UserError:
        raise
    except Exception as error:
        raise UserError(f'data source {name!r} failed on its {split} split: '
                        f'{type(error).__name__}: {error}') from None


class GuardedBatches:
    """A generator call's batches, iterated under `source_errors`; other attributes (the
    optional `files` and `flipped`) are the wrapped object's."""

    def __init__(self, batches, name, split):
        self.batches, self.name, self.split = batches, name, split

    def __iter__(self):
        with source_errors(self.name, self.split):
            yield from self.batches

    def __getattr__(self, attribute):
        return getattr(self.batches, attribute)


def split_batches(source, name, split, batch_size):
    """Return one epoch of the source's `split` ('training' or 'validation') batches, with
    any exception from the source's code turned into one clear line."""
    with source_errors(name, split):
        generator = source.train_generator if split == 'training' else source.valid_generator
        return GuardedBatches(generator(batch_size), name, split)


def require_attributes(source, name, attributes, when):
    """Raise `UserError` naming the `attributes` the source lacks; `when` says at which point."""
    missing = [attribute for attribute in attributes if not hasattr(source, attribute)]
    if missing:
        raise UserError(f'data source {name!r} lacks {", ".join(missing)}{when} '
                        f'({CONTRACT_HINT})')


def check_source(source, name):
    """Raise `UserError` unless `source` has the attributes the contract needs before loading."""
    require_attributes(source, name, REQUIRED, f': a source needs {", ".join(REQUIRED)}')
    check_image_size(source.image_size, f'data source {name!r}')
    num_classes = source.num_classes
    if not is_int(num_classes) or num_classes < 1:
        raise UserError(f'data source {name!r} has num_classes {num_classes!r}; it must be a '
                        f'positive integer')
    colors = source.label_colors
    if not hasattr(colors, 'items'):
        raise UserError(f'data source {name!r}: label_colors must be a dict '
                        f'{{class index: (B, G, R)}}, not {type(colors).__name__}')
    for index, color in colors.items():
        if not is_int(index) or not 0 <= index < num_classes or not is_color(color):
            raise UserError(f'data source {name!r}: label_colors entry {index!r}: {color!r} must '
                            f'map a class index below num_classes ({num_classes}) to three '
                            f'integers 0..255 (B, G, R)')


def check_loaded_source(source, name, for_training=True):
    """Raise `UserError` unless a source's `load_data` gave what the contract promises
    (training samples too, when it is loaded `for_training`)."""
    require_attributes(source, name, LOADED, ' after load_data')
    check_image_size(source.image_size, f'data source {name!r}')
    for attribute in ('num_training', 'num_validation'):
        value = getattr(source, attribute)
        if not is_int(value) or value < 0:
            raise UserError(f'data source {name!r} has {attribute} {value!r}; it must be a '
                            f'count (a non-negative integer)')
    if source.num_training == 0 and for_training:
        raise UserError(f'data source {name!r} found no training samples')
