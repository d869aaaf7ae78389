"""Files and folders: finding files, making and requiring folders, atomic JSON writes."""
import json
import os

from roadseg.core.errors import UserError


def find_files(directory, suffix, recursive=False):
    """Return the sorted paths of the files in `directory` whose names end with `suffix`
    (any letter case); with `recursive`, in its sub-folders too. A missing directory has no
    files."""
    suffix = suffix.lower()
    if recursive:
        walk = ((root, files) for root, _, files in os.walk(directory))
    else:
        walk = [(directory, os.listdir(directory) if os.path.isdir(directory) else [])]
    return sorted(os.path.join(root, name) for root, names in walk for name in names
                  if name.lower().endswith(suffix) and os.path.isfile(os.path.join(root, name)))


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


def write_json(path, value, sort_keys=False):
    """Write `value` as JSON atomically: a temporary file renamed into place. A failed write
    (a full disk, say) leaves no partial file and is one `UserError` line."""
    temporary = f'{path}.{os.getpid()}.tmp'
    try:
        with open(temporary, 'w') as handle:
            json.dump(value, handle, indent=2, sort_keys=sort_keys)
        os.replace(temporary, path)
    except OSError as error:
        remove_quietly(temporary)
        raise UserError(f'cannot write {path}: {error.strerror or error}') from None
    except BaseException:       # a value JSON cannot hold, an interrupt: no leftovers
        remove_quietly(temporary)
        raise


def remove_quietly(path):
    """Remove a file this program created, ignoring that it may already be gone."""
    try:
        os.remove(path)
    except OSError:
        pass


def same_file(a, b):
    """Return whether two paths name the same file or folder (following links)."""
    return os.path.realpath(a) == os.path.realpath(b)


def refuse_overwriting_inputs(outputs, inputs):
    """Raise `UserError` when any output path would land on an input."""
    for output in outputs:
        for given in inputs:
            if same_file(output, given):
                raise UserError(f'the output {output} would overwrite the input {given}: '
                                'choose another output')


def require_folder_or_nothing(path, flag):
    """Raise `UserError` when `path` exists and is not a folder."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise UserError(f'{flag} {path} is a file; give a folder')
