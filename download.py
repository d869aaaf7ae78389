"""Fetching pretrained VGG16 weights: a download that never passes off a partial file.

Every download goes to `<destination>.part` under a progress bar and is renamed into place
only after the caller's check of the finished file passes, so an interrupted or corrupt
download never looks like a model. Nothing outside the `.part` file is ever deleted.
"""
import os
import shutil
import tempfile
import urllib.request
import zipfile

from tqdm import tqdm

import utils

CHUNK_BYTES = 1 << 20


def fetch(url, destination):
    """Download `url` to `destination` (through a `.part` file) with a tqdm progress bar."""
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
        _remove_quietly(partial)
        raise utils.UserError(f'cannot download {url} ({error}). {manual_hint}') from None
    problem = verify(partial)
    if problem:
        _remove_quietly(partial)
        raise utils.UserError(f'the download of {url} is not usable ({problem}). {manual_hint}')
    os.replace(partial, destination)
    return destination


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


def _remove_quietly(path):
    """Remove a file this module created, ignoring that it may not exist."""
    try:
        os.remove(path)
    except OSError:
        pass
