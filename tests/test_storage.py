import os
import stat

import pytest

from vqdna.storage import atomic_path, read_json, write_json


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "results.json"
    write_json(path, {"a": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_text('{"a": 2')  # half written
            raise RuntimeError("interrupted")
    assert read_json(path) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temp file left behind


def test_written_files_get_the_usual_permissions(tmp_path):
    write_json(tmp_path / "x.json", {})
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "x.json").stat().st_mode) == 0o666 & ~mask


def test_a_failed_write_names_the_file_asked_for_not_the_temporary(tmp_path, monkeypatch):
    import tempfile

    def refuse(dir, prefix, suffix):
        raise PermissionError(13, "Permission denied", os.path.join(dir, prefix + "x1y2" + suffix))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError) as caught:
        write_json(tmp_path / "results.json", {})
    assert caught.value.filename == str(tmp_path / "results.json") and caught.value.strerror == "Permission denied"
