"""Painting (painting.py): where outputs go, and what may not be written over."""
import os

import pytest

import painting
from errors import UserError


def test_outputs_keep_the_inputs_relative_names(tmp_path):
    out = str(tmp_path / 'out')
    assert painting.output_paths(out, os.path.join('day', 'a.jpg'), masks=True) == [
        os.path.join(out, 'day', 'a.jpg'), os.path.join(out, 'day', 'a_classes.png'),
        os.path.join(out, 'day', 'a_colors.png')]
    assert painting.output_paths(out, 'drive.mp4', masks=True) == [os.path.join(out,
                                                                                'drive.mp4')]


@pytest.mark.parametrize('output,recursive,refused', [
    ('photos', False, True), ('photos/sub', True, True), ('photos/sub', False, False),
    ('painted', True, False)])
def test_outputs_among_the_inputs_are_refused(tmp_path, output, recursive, refused):
    (tmp_path / 'photos' / 'sub').mkdir(parents=True)
    (tmp_path / 'painted').mkdir()
    check = (lambda: painting.refuse_painting_over_inputs(
        str(tmp_path / 'photos'), str(tmp_path / output), recursive))
    if refused:
        with pytest.raises(UserError, match='among the inputs'):
            check()
    else:
        check()


def test_one_video_may_not_be_painted_into_its_own_folder(tmp_path):
    (tmp_path / 'drive.mp4').write_bytes(b'video')
    with pytest.raises(UserError, match='among the inputs'):
        painting.refuse_painting_over_inputs(str(tmp_path / 'drive.mp4'), str(tmp_path), False)


def test_existing_outputs_are_replaced_only_on_request(tmp_path):
    options = painting.PaintOptions(str(tmp_path), masks=True)
    painting.refuse_existing_outputs(['a.png', 'b.png'], options)
    (tmp_path / 'b_classes.png').write_bytes(b'earlier')
    with pytest.raises(UserError, match=r'1 output\(s\) already exist .*b_classes.png'):
        painting.refuse_existing_outputs(['a.png', 'b.png'], options)


def test_shards_split_the_inputs_without_overlap():
    items = list(range(10))
    assert [painting.shard(items, k, 3) for k in (1, 2, 3)] == [
        [0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
