"""Painting (painting.py): where outputs go, and what may not be written over."""
import os

import pytest

from roadseg.core.errors import UserError
from roadseg.predict import painting
from roadseg.score.submissions import Benchmark


def test_outputs_keep_the_inputs_relative_names(tmp_path):
    out = str(tmp_path / 'out')
    options = painting.PaintOptions(out, masks=True)
    assert painting.output_paths(options, os.path.join('day', 'a.jpg')).paths() == [
        os.path.join(out, 'day', 'a.jpg'), os.path.join(out, 'day', 'a_classes.png'),
        os.path.join(out, 'day', 'a_colors.png')]
    assert painting.output_paths(options, 'drive.mp4').paths() == [os.path.join(out,
                                                                                'drive.mp4')]


def test_benchmark_files_are_named_as_each_benchmark_looks_them_up(tmp_path):
    options = painting.PaintOptions(str(tmp_path / 'out'), benchmark_dir='results')
    cityscapes = Benchmark('cityscapes', tuple(range(29)))
    photo = os.path.join('val', 'lindau', 'lindau_000001_000019_leftImg8bit.png')
    assert painting.output_paths(options, photo, cityscapes).benchmark == os.path.join(
        'results', 'lindau', 'lindau_000001_000019_leftImg8bit.png')
    kitti = Benchmark('kitti_road')
    assert painting.output_paths(options, 'umm_000012.png', kitti).benchmark == os.path.join(
        'results', 'umm_road_000012.png')
    assert painting.output_paths(options, 'drive.mp4', kitti).benchmark is None
    with pytest.raises(UserError, match=r'1 photo\(s\) are not named as kitti_road photos'):
        painting.refuse_photos_without_benchmark_names(['um_000001.png', 'snow.png'], kitti)
    with pytest.raises(UserError, match='would both write the benchmark file um_road_000001'):
        painting.refuse_photos_without_benchmark_names(
            ['um_000001.png', os.path.join('b', 'um_000001.png')], kitti)


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
