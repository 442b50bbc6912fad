import gzip

import numpy as np
import pytest

from pinngen.data import DataError, load_csv, load_image_folder, load_numpy

# ----------------------------------------------------------------------------------------------- numpy


def test_load_npy_and_npz(tmp_path):
    a, b = np.arange(6.0).reshape(2, 3), np.array([1, 2], np.int32)
    np.save(tmp_path / "a.npy", a)
    np.savez(tmp_path / "ab.npz", a=a, b=b)
    np.testing.assert_array_equal(load_numpy(tmp_path / "a.npy"), a)
    np.testing.assert_array_equal(load_numpy(tmp_path / "ab.npz", key="b"), b)
    both = load_numpy(tmp_path / "ab.npz")
    assert sorted(both) == ["a", "b"]
    with pytest.raises(DataError, match=r"no array named 'c'; the file has \['a', 'b'\]"):
        load_numpy(tmp_path / "ab.npz", key="c")
    with pytest.raises(DataError, match="is a .npy file"):
        load_numpy(tmp_path / "a.npy", key="a")


def test_load_numpy_never_unpickles(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="allow_pickle=False"):
        load_numpy(tmp_path / "obj.npy")


def test_load_numpy_rejects_other_files(tmp_path):
    (tmp_path / "x.npy").write_text("hello")
    with pytest.raises(DataError, match="not a .npy or .npz file"):
        load_numpy(tmp_path / "x.npy")


# ------------------------------------------------------------------------------------------------- csv


def test_load_csv_target_by_name_and_default(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,b,y\n1,2,3\n4, 5.5 ,6\n\n")
    t = load_csv(p, target="b")
    assert t.feature_names == ("a", "y") and t.target_name == "b"
    np.testing.assert_array_equal(t.x, [[1, 3], [4, 6]])
    np.testing.assert_array_equal(t.y, [2, 5.5])
    t = load_csv(p)  # last column
    assert t.target_name == "y" and t.x.shape == (2, 2)
    assert load_csv(p, target=None).y is None


def test_load_csv_no_header_semicolon_gzip(tmp_path):
    p = tmp_path / "t.dat"  # gzip detected by magic bytes
    p.write_bytes(gzip.compress(b"1;2\n3;4\n"))
    t = load_csv(p, delimiter=";", header=False, target=0)
    assert t.feature_names == ("c1",) and t.target_name == "c0"
    np.testing.assert_array_equal(t.y, [1, 3])


def test_load_csv_truncated_gzip(tmp_path):
    p = tmp_path / "t.csv.gz"
    p.write_bytes(gzip.compress(b"a,b\n" + b"1,2\n" * 5000)[:-30])
    with pytest.raises(DataError, match="truncated gzip stream"):
        load_csv(p)


@pytest.mark.parametrize(
    ("cell", "problem"), [("nan", "not finite"), ("-inf", "not finite"), ("abc", "'abc' is not a number"),
                          ("", "missing value")])
def test_load_csv_bad_cell_names_row_and_column(tmp_path, cell, problem):
    p = tmp_path / "data.csv"
    p.write_text(f"age,bmi,y\n1,2,3\n4,5,6\n7,{cell},9\n")
    with pytest.raises(DataError) as e:
        load_csv(p, target="y")
    msg = str(e.value)
    assert msg.startswith(f"{p}: row 3 (line 4), column 'bmi' (index 1)")
    assert problem in msg


def test_load_csv_ragged_and_unknown_target(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("a,b\n1,2\n3\n")
    with pytest.raises(DataError, match="row 2 .line 3. has 1 fields, expected 2"):
        load_csv(p)
    p.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"no target column 'z'; columns are \['a', 'b'\]"):
        load_csv(p, target="z")


# ---------------------------------------------------------------------------------------------- images


def _png(path, size, value, mode="L"):
    from PIL import Image

    Image.new(mode, size, value).save(path)


def test_load_image_folder(tmp_path):
    for cls, v in (("cat", 10), ("dog", 200)):
        (tmp_path / cls).mkdir()
        for i in range(3):
            _png(tmp_path / cls / f"{i}.png", (6, 4), v + i)
    (tmp_path / "dog" / "notes.txt").write_text("ignored")
    data = load_image_folder(tmp_path)
    assert data.classes == ("cat", "dog")
    assert data.x.shape == (6, 4, 6) and data.x.dtype == np.uint8  # (n, H, W)
    assert data.y.tolist() == [0, 0, 0, 1, 1, 1]
    assert data.x[4, 0, 0] == 201
    rgb = load_image_folder(tmp_path, mode="RGB")
    assert rgb.x.shape == (6, 4, 6, 3)


def test_load_image_folder_size_mismatch(tmp_path):
    (tmp_path / "a").mkdir()
    _png(tmp_path / "a" / "0.png", (8, 8), 0)
    _png(tmp_path / "a" / "1.png", (8, 9), 0)
    with pytest.raises(DataError) as e:
        load_image_folder(tmp_path)
    msg = str(e.value)
    assert msg.startswith(str(tmp_path / "a" / "1.png"))
    assert "8x9" in msg and "8x8" in msg and "0.png" in msg


def test_load_image_folder_errors(tmp_path):
    with pytest.raises(DataError, match="no class sub-folders"):
        load_image_folder(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "bad.png").write_text("not a png")
    with pytest.raises(DataError, match="bad.png: cannot read image"):
        load_image_folder(tmp_path)
