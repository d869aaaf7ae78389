"""Files and folders (files.py): finding files, atomic JSON, refusing to overwrite inputs."""
import json
import os

import pytest

from roadseg.core import files
from roadseg.core.errors import UserError


def test_find_files_matches_any_letter_case_and_goes_down_only_when_asked(tmp_path):
    (tmp_path / 'sub').mkdir()
    for name in ('a.PNG', 'b.png', 'c.jpg', os.path.join('sub', 'd.png')):
        (tmp_path / name).write_bytes(b'x')
    (tmp_path / 'folder.png').mkdir()          # a folder is not a file
    assert files.find_files(str(tmp_path), '.png') == [str(tmp_path / 'a.PNG'),
                                                       str(tmp_path / 'b.png')]
    assert files.find_files(str(tmp_path), '.png', recursive=True)[-1] == \
        str(tmp_path / 'sub' / 'd.png')
    assert files.find_files(str(tmp_path / 'missing'), '.png') == []


def test_json_is_written_whole_or_not_at_all(tmp_path):
    path = str(tmp_path / 'metrics.json')
    files.write_json(path, {'b': 1, 'a': [1, 2]}, sort_keys=True)
    assert json.loads(open(path).read()) == {'a': [1, 2], 'b': 1}
    assert os.listdir(tmp_path) == ['metrics.json']
    with pytest.raises(UserError, match='cannot write'):
        files.write_json(str(tmp_path / 'no' / 'such' / 'folder.json'), {})
    with pytest.raises(TypeError):              # not JSON: the old file stays, no temporary
        files.write_json(path, {'a': object()})
    assert json.loads(open(path).read()) == {'a': [1, 2], 'b': 1}
    assert os.listdir(tmp_path) == ['metrics.json']


def test_outputs_on_inputs_and_files_for_folders_are_refused(tmp_path):
    photo = tmp_path / 'photo.png'
    photo.write_bytes(b'mine')
    link = tmp_path / 'link.png'
    link.symlink_to(photo)
    with pytest.raises(UserError, match='would overwrite the input'):
        files.refuse_overwriting_inputs([str(link)], [str(photo)])
    files.refuse_overwriting_inputs([str(tmp_path / 'out.png')], [str(photo)])
    with pytest.raises(UserError, match='--output-dir .* is a file'):
        files.require_folder_or_nothing(str(photo), '--output-dir')
    files.require_folder_or_nothing(str(tmp_path / 'new'), '--output-dir')
    with pytest.raises(UserError, match='is a file; pass a directory'):
        files.make_directory(str(photo), 'output directory')
    assert photo.read_bytes() == b'mine'
