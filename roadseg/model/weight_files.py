"""VGG16's pretrained weight files: where they are, fetching them, reading them, loading them.

Two files are known: the SavedModel of the widely used `vgg.zip` (tag `vgg16`), and Keras'
ImageNet weights `vgg16_weights_tf_dim_ordering_tf_kernels.h5`. A missing file is downloaded
(saying what and where) to `<destination>.part` under a progress bar, and renamed into place
only after a check of the finished file passes, so an interrupted or corrupt download never
looks like a model. Files already there are never deleted or overwritten.
"""
import hashlib
import os
import shutil
import tempfile
import urllib.request
import zipfile

import h5py
import numpy as np
import tensorflow.compat.v1 as tf
from tqdm import tqdm

from roadseg.core.errors import UserError
from roadseg.core.files import remove_quietly
from roadseg.model.vgg16 import FC6_SIZE, VGG16_BLOCKS

CHUNK_BYTES = 1 << 20
VGG_ZIP_URL = 'https://s3-us-west-1.amazonaws.com/udacity-selfdrivingcar/vgg.zip'
VGG_ZIP_MEMBERS = ('vgg/saved_model.pb', 'vgg/variables/variables.index',
                   'vgg/variables/variables.data-00000-of-00001')
KERAS_H5_NAME = 'vgg16_weights_tf_dim_ordering_tf_kernels.h5'
KERAS_H5_URL = ('https://storage.googleapis.com/tensorflow/keras-applications/vgg16/'
                + KERAS_H5_NAME)
# The MD5 that Keras' own vgg16.py checks this file against (keras.utils.get_file's
# file_hash): a file by this name with other bytes is not the published one.
KERAS_H5_MD5 = '64373286793e3c8b2b4e3219cbf3544b'
KERAS_LAYERS = {f'block{b}_conv{i}': f'conv{b}_{i}'
                for b, n in enumerate(VGG16_BLOCKS, 1) for i in range(1, n + 1)}
KERAS_LAYERS.update(fc1='fc6', fc2='fc7')
OTHER_PROVIDERS = ('--vgg-dir DIR holding vgg.zip (the SavedModel), --vgg-weights '
                   f'{KERAS_H5_NAME} (Keras ImageNet weights) or --vgg-init scratch')


# ------------------------------------------------------------------------------- vgg.zip

def savedmodel_dir(vgg_dir):
    """Return the folder of vgg.zip's SavedModel under `vgg_dir`, fetching it when missing.

    The archive unpacks to `vgg/saved_model.pb` and `vgg/variables/...`; those are the files
    looked for. A missing archive is downloaded to `vgg_dir/vgg.zip`; files already in
    `vgg_dir` are never deleted or overwritten.
    """
    if all(os.path.isfile(os.path.join(vgg_dir, m)) for m in VGG_ZIP_MEMBERS):
        return os.path.join(vgg_dir, 'vgg')
    archive = os.path.join(vgg_dir, 'vgg.zip')
    if os.path.exists(archive):
        problem = zip_problem(archive, VGG_ZIP_MEMBERS)
        if problem:
            raise UserError(f'{problem}; replace it with a complete vgg.zip from '
                            f'{VGG_ZIP_URL}, or use {OTHER_PROVIDERS}')
    else:
        hint = f'Put the archive at {archive} by hand, or use {OTHER_PROVIDERS}.'
        download_verified(VGG_ZIP_URL, archive,
                          lambda path: zip_problem(path, VGG_ZIP_MEMBERS), hint)
        # Mirrors serve different bytes under this name, so the hash is reported, not
        # checked; settings.json records it too (weights_sha256).
        print(f'[i] {archive}: SHA-256 {file_digest(archive, "sha256")}')
    print(f'[i] Extracting {archive}')
    extract_missing(archive, VGG_ZIP_MEMBERS, vgg_dir)
    return os.path.join(vgg_dir, 'vgg')


def zip_problem(archive, required_members):
    """Return why `archive` is not a complete zip holding `required_members`, or None."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            missing = sorted(set(required_members) - set(zipped.namelist()))
            if missing:
                return f'{archive} lacks {", ".join(missing)}'
            broken = zipped.testzip()
            if broken:
                return f'{archive} has a corrupt member {broken}'
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        return f'{archive} is not a complete zip archive ({error})'
    return None


def extract_missing(archive, members, target_dir):
    """Extract `members` of `archive` into `target_dir`, leaving files already there alone.

    Each file goes to a temporary folder first and is moved into place whole, so an
    interruption never leaves a truncated file under its real name.
    """
    os.makedirs(target_dir, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix='.extract-', dir=target_dir)
    try:
        with zipfile.ZipFile(archive) as zipped:
            for member in members:
                final = os.path.join(target_dir, member)
                if os.path.exists(final):
                    continue
                os.makedirs(os.path.dirname(final), exist_ok=True)
                os.replace(zipped.extract(member, scratch), final)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# ------------------------------------------------------------------- Keras ImageNet HDF5

def keras_cache_path():
    """Return where Keras caches its VGG16 ImageNet weights (KERAS_HOME or ~/.keras)."""
    keras_home = os.environ.get('KERAS_HOME') or os.path.join(os.path.expanduser('~'), '.keras')
    return os.path.join(keras_home, 'models', KERAS_H5_NAME)


def keras_weights_path(path=None):
    """Return a path to Keras' VGG16 ImageNet weights, downloading them when missing.

    `path` is the user's file; without it, Keras' own cache, so a user who ever ran Keras'
    VGG16 already has them. A file named as the published one must be it (`UserError`
    naming the expected MD5 otherwise); under another name it is the user's own weights.
    """
    path = path or keras_cache_path()
    if not os.path.exists(path):
        hint = f'Put {KERAS_H5_NAME} at {path} by hand, or use {OTHER_PROVIDERS}.'
        download_verified(KERAS_H5_URL, path,
                          lambda part: keras_hash_problem(part) or keras_h5_problem(part), hint)
    elif os.path.basename(path) == KERAS_H5_NAME:
        problem = keras_hash_problem(path)
        if problem:
            raise UserError(f'{problem}: refused. Delete it to download the published file, '
                            'or give your own weights under another file name')
    return path


def keras_hash_problem(path):
    """Return why `path` is not the published Keras VGG16 file (its MD5), or None."""
    digest = file_digest(path, 'md5')
    if digest != KERAS_H5_MD5:
        return (f'{path} is not the published {KERAS_H5_NAME}: its MD5 is {digest}, the '
                f'published file\'s is {KERAS_H5_MD5}')
    return None


def file_digest(path, algorithm):
    """Return the hex digest of a file's bytes ('md5', 'sha256'), read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b''):
            digest.update(chunk)
    return digest.hexdigest()


def pretrained_file(backbone, vgg_dir, weights_file=None):
    """Return the weight file a new run of `backbone` starts from (vgg_dir/vgg.zip, where
    the archive is kept, or the Keras HDF5), or None (from scratch, or vgg.zip unpacked by
    hand without its archive)."""
    if backbone == 'savedmodel':
        archive = os.path.join(vgg_dir, 'vgg.zip')
        return archive if os.path.isfile(archive) else None
    if backbone == 'keras':
        return weights_file or keras_cache_path()
    return None


def read_keras_vgg16(path):
    """Return {paper layer name: (kernel, bias)} from Keras' VGG16 HDF5 weights.

    Each layer's arrays are read in the order of its `weight_names` attribute (kernel, then
    bias). fc1 becomes fc6 [7, 7, C, units]: Keras flattened pool5 in (row, column, channel)
    order, which is exactly a C-order reshape. fc2 becomes the 1x1 convolution fc7.
    """
    arrays = {}
    try:
        with h5py.File(path, 'r') as h5:
            root = h5['model_weights'] if 'model_weights' in h5 else h5
            for keras_name, name in KERAS_LAYERS.items():
                group = root[keras_name]
                names = [n.decode() if isinstance(n, bytes) else n
                         for n in group.attrs['weight_names']]
                arrays[name] = tuple(np.asarray(group[n], np.float32) for n in names[:2])
    except (OSError, KeyError) as error:
        raise UserError(f'{path} is not Keras VGG16 weights in the legacy HDF5 layout '
                        f'({error}); use {OTHER_PROVIDERS}') from None
    fc6, fc7 = arrays['fc6'][0], arrays['fc7'][0]
    channels = arrays['conv5_3'][0].shape[-1]
    arrays['fc6'] = (fc6.reshape(FC6_SIZE, FC6_SIZE, channels, fc6.shape[-1]), arrays['fc6'][1])
    arrays['fc7'] = (fc7.reshape(1, 1, *fc7.shape), arrays['fc7'][1])
    return arrays


def keras_h5_problem(path):
    """Return why `path` is not readable Keras VGG16 weights, or None."""
    try:
        read_keras_vgg16(path)
    except UserError as error:
        return str(error)
    return None


# ------------------------------------------------------------------------------ loading

def assign_weights(session, variables, arrays):
    """Assign {layer: (kernel, bias)} arrays to the matching {layer: (weights, biases)}.

    Through assign ops fed by placeholders, which also set every copy of a variable
    mirrored over several devices, and keep the arrays out of the graph.
    """
    for name, pair in variables.items():
        for variable, value in zip(pair, arrays[name]):
            if tuple(variable.shape.as_list()) != value.shape:
                raise UserError(f'{name}: the file holds shape {value.shape}, the '
                                f'network needs {tuple(variable.shape.as_list())}')
            fed = tf.placeholder(variable.dtype.base_dtype, value.shape)
            session.run(variable.assign(fed), {fed: value})


# ---------------------------------------------------------------------------- download

def fetch(url, destination):
    """Download `url` to `destination` + '.part' with a tqdm progress bar; return that path."""
    partial = destination + '.part'
    print(f'[i] Downloading {url}\n[i]   to {destination}')
    with urllib.request.urlopen(url, timeout=60) as response, open(partial, 'wb') as out:
        total = int(response.headers.get('Content-Length') or 0) or None
        with tqdm(total=total, unit='B', unit_scale=True, desc=os.path.basename(url)) as bar:
            for chunk in iter(lambda: response.read(CHUNK_BYTES), b''):
                out.write(chunk)
                bar.update(len(chunk))
    return partial


def download_verified(url, destination, verify, manual_hint):
    """Download `url` to `destination`, keeping it only if `verify(path)` returns None.

    `verify` returns an error string for a bad file. A network failure or a bad file raises
    `UserError` naming the URL and `manual_hint` (where to put the file by hand, and the
    alternatives); the partial file is removed, nothing else.
    """
    os.makedirs(os.path.dirname(os.path.abspath(destination)), exist_ok=True)
    partial = destination + '.part'
    try:
        fetch(url, destination)
    except (OSError, ValueError) as error:  # URLError, timeouts, refused connections
        remove_quietly(partial)
        raise UserError(f'cannot download {url} ({error}). {manual_hint}') from None
    problem = verify(partial)
    if problem:
        remove_quietly(partial)
        raise UserError(f'the download of {url} is not usable ({problem}). {manual_hint}')
    os.replace(partial, destination)
    return destination
