import gzip
import struct

import numpy as np
import pytest

from pinngen.data import DataError, load_idx_pair, read_idx, write_idx


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, size=(7, 5, 4), dtype=np.uint8)


@pytest.mark.parametrize("name", ["imgs.idx", "imgs.idx.gz"])
def test_round_trip_images(tmp_path, images, name):
    path = tmp_path / name
    write_idx(path, images)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    out = read_idx(path, kind="images")
    assert out.dtype == np.uint8 and out.shape == (7, 5, 4)
    np.testing.assert_array_equal(out, images)


def test_gzip_detected_by_magic_not_name(tmp_path, images):
    path = tmp_path / "no-extension"
    write_idx(path, images, compress=True)
    np.testing.assert_array_equal(read_idx(path), images)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32, np.float64])
def test_round_trip_other_types(tmp_path, dtype):
    a = (np.arange(24).reshape(2, 3, 4) - 7).astype(dtype)
    write_idx(tmp_path / "a.idx", a)
    out = read_idx(tmp_path / "a.idx")
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, a)


def test_header_is_the_mnist_one(tmp_path, images):
    write_idx(tmp_path / "i", images)
    write_idx(tmp_path / "l", np.arange(7, dtype=np.uint8))
    assert struct.unpack(">IIII", (tmp_path / "i").read_bytes()[:16]) == (2051, 7, 5, 4)
    assert struct.unpack(">II", (tmp_path / "l").read_bytes()[:8]) == (2049, 7)


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_file(tmp_path, compress):
    header = struct.pack(">IIII", 2051, 60000, 28, 28)
    payload = header + bytes(1000)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(gzip.compress(payload) if compress else payload)
    with pytest.raises(DataError) as e:
        read_idx(path)
    msg = str(e.value)
    assert str(path) in msg and "truncated" in msg
    assert "60000 images of 28x28 = 47040000 bytes" in msg
    if not compress:
        assert "file has 1000 bytes" in msg
    assert "\n" not in msg


def test_truncated_gzip_stream(tmp_path):
    images = np.random.default_rng(1).integers(0, 256, size=(50, 28, 28), dtype=np.uint8)
    path = tmp_path / "x.gz"
    write_idx(path, images)
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(DataError) as e:
        read_idx(path)
    msg = str(e.value)
    assert "truncated: header says 50 images of 28x28 = 39200 bytes, file has" in msg
    assert "gzip stream is cut off" in msg


def test_gzip_trailer_missing_and_corrupt(tmp_path, images):
    path = tmp_path / "x.gz"
    write_idx(path, images)
    good = path.read_bytes()
    path.write_bytes(good[:-4])  # all data, no complete trailer
    with pytest.raises(DataError, match="end-of-stream marker is missing"):
        read_idx(path)
    path.write_bytes(good + b"garbage")
    with pytest.raises(DataError, match="corrupt gzip data"):
        read_idx(path)


def test_multi_member_and_zero_padded_gzip(tmp_path, images):
    path = tmp_path / "x.idx"
    write_idx(path, images, compress=False)
    raw = path.read_bytes()
    path.write_bytes(gzip.compress(raw[:10]) + gzip.compress(raw[10:]) + bytes(30))
    np.testing.assert_array_equal(read_idx(path), images)


def test_trailing_bytes(tmp_path, images):
    path = tmp_path / "x"
    write_idx(path, images)
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(DataError, match="trailing data"):
        read_idx(path)


@pytest.mark.parametrize("head", [b"PK\x03\x04", b"\x00\x01\x08\x03", b"\x00\x00\x07\x03",
                                  b"\x00\x00\x08\x00"])
def test_wrong_magic(tmp_path, head):
    path = tmp_path / "bad"
    path.write_bytes(head + bytes(64))
    with pytest.raises(DataError, match="not an IDX file") as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_short_header(tmp_path):
    (tmp_path / "a").write_bytes(b"\x00\x00")
    (tmp_path / "b").write_bytes(b"\x00\x00\x08\x03\x00\x00\x00\x01")
    with pytest.raises(DataError, match="truncated header"):
        read_idx(tmp_path / "a")
    with pytest.raises(DataError, match="3 dimensions need 16 bytes, file has 8"):
        read_idx(tmp_path / "b")


def test_wrong_kind(tmp_path):
    write_idx(tmp_path / "labels", np.zeros(3, np.uint8))
    with pytest.raises(DataError, match="expected IDX images .*2051.* found magic 2049"):
        read_idx(tmp_path / "labels", kind="images")


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_idx(tmp_path / "nope.gz")


def test_pair_and_count_mismatch(tmp_path, images):
    write_idx(tmp_path / "i.gz", images)
    write_idx(tmp_path / "l.gz", np.arange(7, dtype=np.uint8))
    x, y = load_idx_pair(tmp_path / "i.gz", tmp_path / "l.gz")
    assert x.shape == (7, 5, 4) and y.tolist() == list(range(7))
    write_idx(tmp_path / "l6.gz", np.arange(6, dtype=np.uint8))
    with pytest.raises(DataError, match=r"6 labels but .*i\.gz has 7 images"):
        load_idx_pair(tmp_path / "i.gz", tmp_path / "l6.gz")


def test_writer_rejects_bad_dtype(tmp_path):
    with pytest.raises(ValueError, match="uint16 cannot be written"):
        write_idx(tmp_path / "x", np.zeros(3, np.uint16))
