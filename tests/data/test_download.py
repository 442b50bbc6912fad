import hashlib

import pytest

from pinngen.data import DataError, download, sha256sum


@pytest.fixture
def source(tmp_path):
    src = tmp_path / "remote" / "blob.bin"
    src.parent.mkdir()
    src.write_bytes(b"pinngen" * 1000)
    return src, hashlib.sha256(src.read_bytes()).hexdigest()


def test_download_file_url(tmp_path, source):
    src, digest = source
    dest = download(src.as_uri(), tmp_path / "out" / "blob.bin", sha256=digest.upper(), chunk=1000)
    assert dest.read_bytes() == src.read_bytes()
    assert sha256sum(dest) == digest
    assert [p.name for p in dest.parent.iterdir()] == ["blob.bin"]  # no temporary left
    assert download(src.as_uri(), dest, sha256=digest) == dest  # already there


def test_download_hash_mismatch(tmp_path, source):
    src, digest = source
    wrong = "0" * 64
    dest = tmp_path / "out" / "blob.bin"
    with pytest.raises(DataError) as e:
        download(src.as_uri(), dest, sha256=wrong)
    assert wrong in str(e.value) and digest in str(e.value)
    assert not dest.exists() and list(dest.parent.iterdir()) == []


def test_download_keeps_old_file_on_mismatch(tmp_path, source):
    src, _ = source
    dest = tmp_path / "blob.bin"
    dest.write_bytes(b"old")
    with pytest.raises(DataError, match="SHA-256 mismatch"):
        download(src.as_uri(), dest, sha256="1" * 64)
    assert dest.read_bytes() == b"old"


def test_download_errors(tmp_path):
    with pytest.raises(ValueError, match="64 hexadecimal digits"):
        download("file:///x", tmp_path / "x", sha256="abc")
    with pytest.raises(ValueError, match="scheme 'ftp'"):
        download("ftp://host/x", tmp_path / "x", sha256="0" * 64)
    with pytest.raises(DataError, match="download failed"):
        download((tmp_path / "missing").as_uri(), tmp_path / "x", sha256="0" * 64)
