"""Image files: reading photos and colour labels, cheap header checks, atomic writes."""
import os

import cv2
import numpy as np

from roadseg.core.errors import UserError
from roadseg.core.files import remove_quietly

# Colour, whatever the file holds (grey, 16-bit, palette or RGBA: the alpha channel of an RGBA
# label is dropped), and no EXIF rotation, which would turn a photo away from its label.
READ_FLAGS = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
# The mean colour of the photos VGG16 was trained on (Caffe's ImageNet means, BGR): the
# network subtracts it, so padding in this colour is zero to it.
VGG_MEAN_BGR = (103.939, 116.779, 123.68)


def quiet_opencv():
    """Silence OpenCV's own warnings (e.g. about a truncated PNG): the scripts report unreadable
    files themselves, in one line that names the file."""
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


def read_image(path, unchanged=False):
    """Return a photo or a colour label as uint8 BGR [H, W, 3]; with `unchanged`, the
    file's own channels and depth (a label-id or 16-bit instance-id PNG as [H, W]).

    Raises `UserError` naming the file when it is missing, empty, truncated or not an image.
    """
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        raise UserError(f'cannot read {path}: {error.strerror or error}') from None
    image = None
    if data.size:
        try:
            image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED if unchanged else READ_FLAGS)
        except cv2.error:
            image = None
    if image is None:
        raise UserError(f'cannot decode {path}: the file is empty, truncated or not an image; '
                        f'replace or remove it')
    return image


def looks_like_image(path):
    """Return whether `path` is a non-empty file with a header OpenCV can decode.

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
    try:
        ok, data = cv2.imencode(extension, image)
    except cv2.error:
        ok = False
    if not ok:
        raise UserError(f'cannot write {path}: OpenCV cannot encode {extension} images; use '
                        '.png or .jpg')
    temporary = f'{path}.{os.getpid()}.part'
    try:
        data.tofile(temporary)
        os.replace(temporary, path)
    except OSError as error:
        remove_quietly(temporary)
        raise UserError(f'cannot write {path}: {error.strerror or error}') from None
