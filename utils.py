"""Helpers shared by the scripts: errors the user can fix, data sources and their labels,
the threaded batch loader, drawing, and variable initialisation.

Everything the data sources have in common lives here, so that a `source_<name>.py` only says
where its files are and what its colours mean.
"""
import collections
import concurrent.futures
import importlib
import itertools
import os
import pkgutil
import re
import sys
from typing import NamedTuple

import cv2
import numpy as np


class UserError(Exception):
    """A problem the user can fix; scripts print it as one `[!]` line and exit non-zero."""


def run_script(main):
    """Run a script's `main()`, turning a `UserError` into one `[!]` line and exit status 1.

    `main` returns the exit status (None counts as 0).
    """
    try:
        status = main()
    except UserError as error:
        print(f'[!] {error}', file=sys.stderr)
        status = 1
    sys.exit(status or 0)


def initialize_uninitialized_variables(session):
    """Initialise only the global variables that nothing has loaded yet.

    Pretrained weights restored from a SavedModel or assigned from a file stay as they are;
    the global initialiser would overwrite them.
    """
    # Imported here, not at the top: the data sources and check_data_source.py use this module
    # and should not pay TensorFlow's import time.
    import tensorflow.compat.v1 as tf

    variables = tf.global_variables()
    if not variables:
        return []
    flags = session.run([tf.is_variable_initialized(v) for v in variables])
    pending = [v for v, done in zip(variables, flags) if not done]
    if pending:
        session.run(tf.variables_initializer(pending))
    return pending


# ---------------------------------------------------------------------------------------------
# Data sources (contract 1 of DESIGN.md)
# ---------------------------------------------------------------------------------------------

SOURCE_PREFIX = 'source_'
SOURCE_NAME = re.compile(r'[a-z0-9_]+')
SOURCE_ATTRIBUTES = ('image_size', 'num_classes', 'label_colors', 'load_data')
LOADED_SOURCE_ATTRIBUTES = ('num_training', 'num_validation', 'train_generator', 'valid_generator')
SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
CONTRACT_HINT = 'see "Data sources" in README.md'


def available_sources():
    """Names of the data sources (`source_<name>.py`) beside the scripts and on the Python path."""
    paths = [SCRIPT_DIR] + [path for path in sys.path if os.path.isdir(path or '.')]
    names = set()
    for module in pkgutil.iter_modules(paths):
        name = module.name[len(SOURCE_PREFIX):]
        if module.name.startswith(SOURCE_PREFIX) and SOURCE_NAME.fullmatch(name):
            names.add(name)
    return sorted(names)


def load_data_source(name):
    """Import `source_<name>` and return its `get_source()`, checked against contract 1.

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


def load_source_data(name, data_dir, valid_fraction, seed=0):
    """Return data source `name` with its data loaded from `data_dir` and checked.

    The source's optional `seed` (split, shuffles, flips) is set first. A bare-contract
    source's OSError (a missing folder, say) becomes one `UserError` line.
    """
    source = load_data_source(name)
    if hasattr(source, 'seed'):
        source.seed = seed
    try:
        source.load_data(data_dir, valid_fraction)
    except OSError as error:
        raise UserError(f'cannot load {name} data from {data_dir}: {error}') from None
    check_loaded_source(source, name)
    return source


def check_source(source, name):
    """Raise `UserError` unless `source` has the attributes contract 1 needs before loading."""
    missing = [attribute for attribute in SOURCE_ATTRIBUTES if not hasattr(source, attribute)]
    if missing:
        raise UserError(f'data source {name!r} lacks {", ".join(missing)}: a source needs '
                        f'{", ".join(SOURCE_ATTRIBUTES)} ({CONTRACT_HINT})')
    check_image_size(source.image_size, f'data source {name!r}')
    num_classes = source.num_classes
    if not _is_int(num_classes) or num_classes < 1:
        raise UserError(f'data source {name!r} has num_classes {num_classes!r}; it must be a '
                        f'positive integer')
    colors = source.label_colors
    if not hasattr(colors, 'items'):
        raise UserError(f'data source {name!r}: label_colors must be a dict '
                        f'{{class index: (B, G, R)}}, not {type(colors).__name__}')
    for index, color in colors.items():
        if not _is_int(index) or not 0 <= index < num_classes or not _is_color(color):
            raise UserError(f'data source {name!r}: label_colors entry {index!r}: {color!r} must '
                            f'map a class index below num_classes ({num_classes}) to three '
                            f'integers 0..255 (B, G, R)')


def check_loaded_source(source, name):
    """Raise `UserError` unless a source's `load_data` gave what contract 1 promises."""
    missing = [a for a in LOADED_SOURCE_ATTRIBUTES if not hasattr(source, a)]
    if missing:
        raise UserError(f'data source {name!r} lacks {", ".join(missing)} after load_data '
                        f'({CONTRACT_HINT})')
    check_image_size(source.image_size, f'data source {name!r}')
    for attribute in ('num_training', 'num_validation'):
        value = getattr(source, attribute)
        if not _is_int(value) or value < 0:
            raise UserError(f'data source {name!r} has {attribute} {value!r}; it must be a '
                            f'count (a non-negative integer)')
    if source.num_training == 0:
        raise UserError(f'data source {name!r} found no training samples')


def check_image_size(size, what):
    """Raise `UserError` unless `size` is (width, height) of positive multiples of 32.

    The network halves the resolution five times; other sizes would not line up.
    """
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(_is_int(v) and v > 0 and v % 32 == 0 for v in size)):
        suggestion = ''
        if isinstance(size, (tuple, list)) and len(size) == 2 and all(_is_int(v) for v in size):
            rounded = tuple(max(32, int(round(v / 32)) * 32) for v in size)
            suggestion = f', for example {rounded}'
        raise UserError(f'{what} has image_size {size!r}: it must be (width, height) with both '
                        f'multiples of 32{suggestion}')


def _is_int(value):
    """True for Python and NumPy integers, not for bools."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_color(color):
    """True for a sequence of three integers 0..255."""
    return (isinstance(color, (tuple, list, np.ndarray)) and len(color) == 3
            and all(_is_int(c) and 0 <= c <= 255 for c in color))


def check_valid_fraction(valid_fraction):
    """Raise `UserError` unless 0 <= valid_fraction < 1."""
    if (isinstance(valid_fraction, bool)
            or not isinstance(valid_fraction, (int, float, np.integer, np.floating))
            or not 0 <= valid_fraction < 1):
        raise UserError(f'the validation fraction must be at least 0 and below 1, not '
                        f'{valid_fraction!r}')


def require_directory(path, what, hint):
    """Raise `UserError` unless `path` is a directory; `hint` says how to get the data."""
    if not os.path.exists(path):
        raise UserError(f'the {what} data directory {path} does not exist; {hint}')
    if not os.path.isdir(path):
        raise UserError(f'the {what} data directory {path} is a file, not a directory; {hint}')


def make_directory(path, what):
    """Create directory `path` and its parents if missing; `UserError` when that cannot be."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise UserError(f'the {what} {path} is a file; pass a directory')
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise UserError(f'cannot create the {what} {path}: {error.strerror or error}') from None


def quiet_opencv():
    """Silence OpenCV's own warnings (e.g. about a truncated PNG): the scripts report unreadable
    files themselves, in one line that names the file."""
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


# ---------------------------------------------------------------------------------------------
# Image files
# ---------------------------------------------------------------------------------------------

# Colour, whatever the file holds (grey, 16-bit, palette or RGBA: the alpha channel of an RGBA
# label is dropped), and no EXIF rotation, which would turn a photo away from its label.
READ_FLAGS = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION


def read_image(path):
    """Read a photo or a colour label as uint8 BGR [H, W, 3].

    Raises `UserError` naming the file when it is missing, empty, truncated or not an image.
    """
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        raise UserError(f'cannot read {path}: {error.strerror or error}') from None
    image = None
    if data.size:
        try:
            image = cv2.imdecode(data, READ_FLAGS)
        except cv2.error:
            image = None
    if image is None:
        raise UserError(f'cannot decode {path}: the file is empty, truncated or not an image; '
                        f'replace or remove it')
    return image


def looks_like_image(path):
    """Cheap test that `path` is a non-empty file with a header OpenCV can decode.

    Only the first bytes are read, so a whole data set is checked in moments; a file that is
    truncated further in passes here and fails later in `read_image`.
    """
    try:
        return os.path.getsize(path) > 0 and cv2.haveImageReader(path)
    except (OSError, cv2.error):
        return False


def write_image(path, image):
    """Write a uint8 image (format from the extension) atomically: a temporary file is renamed
    into place, so an interrupted run never leaves a half-written file under the final name."""
    extension = os.path.splitext(path)[1] or '.png'
    ok, data = cv2.imencode(extension, image)
    if not ok:
        raise UserError(f'cannot encode an image as {extension} for {path}')
    temporary = f'{path}.{os.getpid()}.part'
    try:
        data.tofile(temporary)
        os.replace(temporary, path)
    except OSError as error:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise UserError(f'cannot write {path}: {error.strerror or error}') from None


def resize_image(image, size):
    """Resize a photo to size (width, height): area averaging when shrinking (no aliasing),
    bilinear when enlarging."""
    size = tuple(int(v) for v in size)
    height, width = image.shape[:2]
    if (width, height) == size:
        return image
    shrinking = width * height > size[0] * size[1]
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def resize_label(label, size):
    """Resize a colour label or a class map to size (width, height) by nearest neighbour.

    Every output pixel copies one input pixel, so no colour (no class) appears that the label
    did not have; bilinear resizing would invent blended colours along every boundary.
    """
    size = tuple(int(v) for v in size)
    if (label.shape[1], label.shape[0]) == size:
        return label
    return cv2.resize(label, size, interpolation=cv2.INTER_NEAREST_EXACT)


# ---------------------------------------------------------------------------------------------
# Labels: colours, class maps, one-hot rows
# ---------------------------------------------------------------------------------------------

def pack_colors(bgr):
    """Pack uint8 colours [..., 3] into one int32 each (B << 16 | G << 8 | R), for lookups."""
    bgr = np.asarray(bgr)
    return ((bgr[..., 0].astype(np.int32) << 16) | (bgr[..., 1].astype(np.int32) << 8)
            | bgr[..., 2].astype(np.int32))


def colors_to_class_map(label_bgr, colors, unknown=-1):
    """Class index of every pixel of a colour label, by one vectorised lookup.

    label_bgr: uint8 [..., 3] BGR; colors: {class index: (B, G, R)} (if two classes share a
    colour, the first listed wins); unknown: the index given to colours not in `colors` (-1,
    the default, means "don't care"). Returns int32 [...].

    Each colour is packed into one integer, the table is sorted, and all pixels are found at
    once by binary search: no loop over classes or pixels.
    """
    classes = np.fromiter(colors.keys(), dtype=np.int32, count=len(colors))
    keys = pack_colors(np.array(list(colors.values()), dtype=np.uint8).reshape(-1, 3))
    order = np.argsort(keys, kind='stable')
    keys, classes = keys[order], classes[order]
    packed = pack_colors(label_bgr)
    if not len(keys):
        return np.full(packed.shape, unknown, dtype=np.int32)
    index = np.minimum(np.searchsorted(keys, packed), len(keys) - 1)
    return np.where(keys[index] == packed, classes[index], np.int32(unknown)).astype(np.int32)


def one_hot(class_map, num_classes):
    """One-hot float32 labels [..., num_classes] from class indices [...]; -1 (don't care), or
    any index outside 0..num_classes-1, gives an all-zero row."""
    class_map = np.asarray(class_map)
    # A table with one row per class and a last, all-zero row: one gather is several times
    # faster than comparing every pixel with every class.
    table = np.eye(num_classes + 1, num_classes, dtype=np.float32)
    rows = np.where((class_map >= 0) & (class_map < num_classes), class_map, num_classes)
    return np.take(table, rows, axis=0)


def labels_to_class_map(labels):
    """Class index per pixel of one-hot labels [..., H, W, C] as int32 [..., H, W]; -1 where
    the row is all zero (don't care)."""
    labels = np.asarray(labels)
    classes = np.argmax(labels, axis=-1).astype(np.int32)
    classes[~np.any(labels != 0, axis=-1)] = -1
    return classes


class OneHotCheck(NamedTuple):
    """What `check_one_hot` found: boolean masks over the pixels [..., H, W]."""

    bad: np.ndarray   # rows that are not valid (all-zero rows included unless allowed)
    zero: np.ndarray  # rows that are all zero, whether allowed or not


def check_one_hot(labels, allow_zero_rows=False):
    """Check every label row [..., C] at once: valid is exactly one 1 and all else 0.

    With `allow_zero_rows` (a source with `ignores_pixels`), all-zero rows are not bad; they
    are still marked in `zero` so that a report can count them apart. A row is one-hot when it
    has exactly one non-zero entry and sums to 1 (with one non-zero entry, the sum is that
    entry, exactly); NaN counts as non-zero and never sums to 1. Returns
    `OneHotCheck(bad, zero)`.
    """
    labels = np.asarray(labels)
    nonzero = labels != 0
    # einsum sums the short class axis several times faster than ndarray.sum or max; byte
    # counts are exact below 256 classes.
    if labels.shape[-1] < 256:
        count = np.einsum('...k->...', nonzero.view(np.uint8))
    else:
        count = np.count_nonzero(nonzero, axis=-1)
    valid = (count == 1) & (np.einsum('...k->...', labels) == 1)
    zero = count == 0
    bad = ~valid & ~zero if allow_zero_rows else ~valid
    return OneHotCheck(bad, zero)


def first_coordinates(mask, limit=5):
    """(x, y) of the first `limit` True pixels of a 2-D mask, row by row."""
    ys, xs = np.nonzero(mask)
    return list(zip(xs[:limit].tolist(), ys[:limit].tolist()))


def color_lookup(class_map, label_colors):
    """Colour [..., 3] and "has a colour" flag [...] per pixel, by one table lookup.

    The table has a row per class index up to the largest coloured one, plus a last row with
    no colour for -1, out-of-range indices and classes without a colour.
    """
    size = max(label_colors, default=-1) + 2
    table = np.zeros((size, 3), dtype=np.uint8)
    known = np.zeros(size, dtype=bool)
    if label_colors:
        indices = np.fromiter(label_colors.keys(), dtype=np.int64, count=len(label_colors))
        table[indices] = np.array(list(label_colors.values()), dtype=np.uint8).reshape(-1, 3)
        known[indices] = True
    class_map = np.asarray(class_map)
    rows = np.where((class_map >= 0) & (class_map < size - 1), class_map, size - 1)
    return table[rows], known[rows]


def class_map_to_colors(class_map, label_colors, background=(0, 0, 0)):
    """Colour label uint8 [..., 3] BGR of a class map; `background` where a pixel's class has
    no colour (-1 included)."""
    colors, known = color_lookup(class_map, label_colors)
    return np.where(known[..., None], colors, np.array(background, dtype=np.uint8))


def blend_labels(image, class_map, label_colors, alpha=0.5):
    """One image [H, W, 3] (BGR, uint8 or float 0..255) blended with its classes' colours.

    Each pixel becomes (1 - alpha) * image + alpha * colour of its class; pixels of class -1
    (or of a class without a colour) stay as they are. Returns uint8 BGR [H, W, 3].
    """
    image = np.asarray(image, dtype=np.float32)
    colors, known = color_lookup(class_map, label_colors)
    blended = image * (1 - alpha) + colors.astype(np.float32) * alpha
    result = np.where(known[..., None], blended, image)
    return np.clip(np.rint(result), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Finding samples: pairing images with labels, skipping what cannot be used, the split
# ---------------------------------------------------------------------------------------------

def find_files(directory, suffix, recursive=False):
    """Sorted paths of the files in `directory` whose names end with `suffix` (any letter
    case); with `recursive`, in its sub-folders too. A missing directory has no files."""
    suffix = suffix.lower()
    if recursive:
        walk = ((root, files) for root, _, files in os.walk(directory))
    else:
        walk = [(directory, os.listdir(directory) if os.path.isdir(directory) else [])]
    return sorted(os.path.join(root, name) for root, names in walk for name in names
                  if name.lower().endswith(suffix) and os.path.isfile(os.path.join(root, name)))


def report_skipped(paths, why, limit=3):
    """Print one `[!]` line on stderr: how many files are skipped, why, and the first names."""
    if not paths:
        return
    names = ', '.join(os.path.basename(path) for path in paths[:limit])
    more = ', ...' if len(paths) > limit else ''
    print(f'[!] skipping {len(paths)} {why}: {names}{more}', file=sys.stderr)


def collect_samples(image_paths, label_path_for, what):
    """Pair images with their labels, keeping only pairs whose two files look readable.

    label_path_for(image_path) gives the path the label should have (None when the image's name
    does not fit the layout). Images without a label and unreadable files (empty, or not an
    image by their header) are skipped and reported with a count and the first names.
    Returns [(image_path, label_path)].
    """
    pairs, unlabeled, unreadable = [], [], []
    for image_path in image_paths:
        label_path = label_path_for(image_path)
        if label_path is None or not os.path.isfile(label_path):
            unlabeled.append(image_path)
            continue
        broken = [path for path in (image_path, label_path) if not looks_like_image(path)]
        if broken:
            unreadable.extend(broken)
        else:
            pairs.append((image_path, label_path))
    report_skipped(unlabeled, f'{what} images without a label')
    report_skipped(unreadable, f'{what} files that are empty or not images (with their pairs)')
    return pairs


# Independent random streams drawn from one seed.
SPLIT_STREAM, EPOCH_STREAM = 0, 1


def check_seed(seed):
    """Raise `UserError` unless `seed` is a non-negative integer."""
    if not _is_int(seed) or seed < 0:
        raise UserError(f'the seed must be a non-negative integer, not {seed!r}')


def split_samples(samples, valid_fraction, seed=0):
    """Deterministic train/validation split for a seed.

    The samples are sorted first (the order files are listed in does not matter), then a
    generator seeded with `seed` picks round(n * valid_fraction) of them for validation: at
    least one when the fraction is positive and there are two samples or more, never all.
    Returns (train, valid), each sorted.
    """
    check_valid_fraction(valid_fraction)
    check_seed(seed)
    samples = sorted(samples)
    count = len(samples)
    num_valid = int(round(count * valid_fraction))
    if valid_fraction > 0 and count >= 2:
        num_valid = min(max(num_valid, 1), count - 1)
    else:
        num_valid = 0
    chosen = np.zeros(count, dtype=bool)
    chosen[np.random.default_rng([seed, SPLIT_STREAM]).permutation(count)[:num_valid]] = True
    train = [sample for sample, valid in zip(samples, chosen) if not valid]
    valid = [sample for sample, valid in zip(samples, chosen) if valid]
    return train, valid


# ---------------------------------------------------------------------------------------------
# Batches: worker threads ahead of the training loop
# ---------------------------------------------------------------------------------------------

MAX_WORKERS = 4
PREFETCH_BYTES = 512 * 2 ** 20  # batches prepared ahead never take more memory than this


class EpochBatches:
    """One epoch of batches, prepared by worker threads ahead of the consumer.

    Iterating yields (images float32 [B, H, W, 3], labels float32 [B, H, W, C]) in the order of
    `files`; the last batch may be smaller. Each worker loads whole batches with
    `load_sample(files[i], flipped[i])`; at most `prefetch` batches are in flight, so memory
    stays bounded however slow the consumer is. OpenCV's decoding and resizing release the
    GIL, so threads overlap well. An error in a worker (e.g. `UserError` for a corrupt file)
    is raised in the consumer when it reaches that batch. Iterating again replays the epoch.

    Attributes for tools such as check_data_source.py: `files`, the (image, label) pairs in
    the order they are yielded, and `flipped`, True for each sample that is mirrored.
    """

    def __init__(self, files, flipped, batch_size, load_sample, num_workers=None,
                 prefetch=None):
        if not _is_int(batch_size) or batch_size < 1:
            raise UserError(f'the batch size must be a positive integer, not {batch_size!r}')
        self.files = list(files)
        self.flipped = [bool(f) for f in flipped]
        self.batch_size = int(batch_size)
        self.load_sample = load_sample
        self.num_workers = num_workers or min(MAX_WORKERS, os.cpu_count() or 1)
        self.prefetch = prefetch or 2 * self.num_workers

    def __len__(self):
        """Number of batches in the epoch."""
        return -(-len(self.files) // self.batch_size)

    def __iter__(self):
        starts = iter(range(0, len(self.files), self.batch_size))
        executor = concurrent.futures.ThreadPoolExecutor(self.num_workers,
                                                         thread_name_prefix='batch-loader')
        pending = collections.deque(executor.submit(self._load_batch, start)
                                    for start in itertools.islice(starts, self.prefetch))
        try:
            while pending:
                batch = pending.popleft().result()
                start = next(starts, None)
                if start is not None:
                    pending.append(executor.submit(self._load_batch, start))
                yield batch
        finally:
            # Reached on the end, on an error and when the consumer stops early: drop the
            # batches nobody will take.
            executor.shutdown(wait=False, cancel_futures=True)

    def _load_batch(self, start):
        """Load and stack the samples of the batch that begins at index `start`."""
        stop = min(start + self.batch_size, len(self.files))
        samples = [self.load_sample(self.files[i], self.flipped[i]) for i in range(start, stop)]
        images = np.stack([image for image, _ in samples])
        labels = np.stack([label for _, label in samples])
        return images, labels


class ImageLabelSource:
    """Base of the built-in sources: image files paired with colour-label files.

    A subclass sets `image_size`, `num_classes`, `label_colors`, `class_names` (and, when its
    data has them, `ignores_pixels` and `unknown_class`) and implements
    `find_samples(data_dir, valid_fraction) -> (train pairs, validation pairs)`. This class
    does the rest of contract 1: reading, nearest-neighbour label resizing, colour lookup,
    one-hot encoding, seeded shuffles and flips, and threaded batching.
    """

    image_size = None
    num_classes = None
    label_colors = {}
    class_names = []
    ignores_pixels = False
    unknown_class = -1  # class of colours outside label_colors; -1 is an all-zero row

    def __init__(self):
        self.seed = 0  # main.py sets it from --seed; drives the split, shuffles and flips
        self.epoch = 0  # number of the next training epoch: each has its own shuffle
        self.num_workers = None  # None: up to MAX_WORKERS, one per core
        self.train_files, self.valid_files = [], []
        self.num_training = self.num_validation = 0

    def find_samples(self, data_dir, valid_fraction):
        """(train, valid) lists of (image_path, label_path); implemented by each source."""
        raise NotImplementedError

    def load_data(self, data_dir, valid_fraction):
        """Find the samples in `data_dir` and split them; raises `UserError` when there are
        none or the directory is missing."""
        check_valid_fraction(valid_fraction)
        check_seed(self.seed)
        train, valid = self.find_samples(os.path.expanduser(str(data_dir)), valid_fraction)
        if not train:
            raise UserError(f'no usable training samples in {data_dir}')
        self.train_files, self.valid_files = list(train), list(valid)
        self.num_training, self.num_validation = len(self.train_files), len(self.valid_files)
        self.epoch = 0

    def load_sample(self, files, flip=False):
        """One sample from its (image, label) files: float32 BGR image [H, W, 3] and float32
        one-hot labels [H, W, num_classes] at image_size, mirrored left-right if `flip`."""
        image_path, label_path = files
        image = resize_image(read_image(image_path), self.image_size)
        label = resize_label(read_image(label_path), self.image_size)
        classes = colors_to_class_map(label, self.label_colors, self.unknown_class)
        if flip:
            image, classes = image[:, ::-1], classes[:, ::-1]
        return image.astype(np.float32), one_hot(classes, self.num_classes)

    def train_generator(self, batch_size):
        """The next training epoch: shuffled by a generator seeded with (seed, epoch number),
        each sample mirrored left-right with probability 1/2."""
        rng = np.random.default_rng([self.seed, EPOCH_STREAM, self.epoch])
        self.epoch += 1
        order = rng.permutation(len(self.train_files))
        flipped = rng.random(len(order)) < 0.5
        return self._batches([self.train_files[i] for i in order], flipped, batch_size)

    def valid_generator(self, batch_size):
        """All validation samples, in a fixed order, never mirrored."""
        return self._batches(self.valid_files, [False] * len(self.valid_files), batch_size)

    def _batches(self, files, flipped, batch_size):
        """An `EpochBatches` whose prefetch queue fits in PREFETCH_BYTES."""
        width, height = self.image_size
        batch_bytes = max(1, int(batch_size)) * width * height * (3 + self.num_classes) * 4
        workers = self.num_workers or min(MAX_WORKERS, os.cpu_count() or 1)
        prefetch = max(1, min(2 * workers, PREFETCH_BYTES // batch_bytes))
        return EpochBatches(files, flipped, batch_size, self.load_sample, workers, prefetch)
