"""Image files (images.py): reading drops alpha and names bad files; writing is atomic."""
import cv2
import numpy as np
import pytest

from roadseg.core.errors import UserError
from roadseg.data.images import looks_like_image, read_image, write_image


def test_read_image_drops_alpha_and_names_bad_files(tmp_path):
    rgba = np.zeros((3, 4, 4), dtype=np.uint8)
    rgba[..., :3] = (10, 20, 30)
    rgba[..., 3] = 0  # fully transparent: the colour must survive
    cv2.imwrite(str(tmp_path / 'label.png'), rgba)
    assert read_image(str(tmp_path / 'label.png'))[0, 0].tolist() == [10, 20, 30]
    (tmp_path / 'empty.png').write_bytes(b'')
    for name in ('empty.png', 'missing.png'):
        with pytest.raises(UserError, match=name):
            read_image(str(tmp_path / name))
    assert not looks_like_image(str(tmp_path / 'empty.png'))
    assert looks_like_image(str(tmp_path / 'label.png'))


def test_write_image_is_atomic_and_leaves_no_temporary(tmp_path):
    path = tmp_path / 'out.png'
    write_image(str(path), np.full((2, 2, 3), 7, np.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ['out.png']
    assert read_image(str(path)).tolist() == [[[7] * 3] * 2] * 2
    with pytest.raises(UserError, match='cannot write'):
        write_image(str(tmp_path / 'no' / 'dir.png'), np.zeros((2, 2, 3), np.uint8))
