"""examples/gan_own_images.py runs end to end on a folder of images, and writes its demo folder without one."""

import importlib.util
from pathlib import Path

import numpy as np
from PIL import Image

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "gan_own_images.py"


def _example():
    spec = importlib.util.spec_from_file_location("gan_own_images", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_demo_folder_holds_one_sub_folder_per_digit(tmp_path):
    root = _example().write_demo_folder(str(tmp_path / "demo"), n=60)
    classes = sorted(p.name for p in Path(root).iterdir())
    assert classes == [str(d) for d in range(10)]
    files = sorted(Path(root).glob("*/*.png"))
    assert len(files) == 60 and np.asarray(Image.open(files[0])).shape == (8, 8)


def test_example_trains_and_samples_on_own_images(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "imgs" / "blobs"
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(40):  # 12x12 grey squares of random brightness
        img = np.zeros((12, 12), np.uint8)
        img[3:9, 3:9] = rng.integers(100, 255)
        Image.fromarray(img).save(root / f"{i}.png")
    _example().main(str(tmp_path / "imgs"), steps=6, n_samples=8, track_samples=16, grid=2)
    samples = np.load(tmp_path / "own_gan_samples.npy")
    assert samples.shape == (64, 12, 12) and samples.min() >= 0 and samples.max() <= 1
    out = tmp_path / "runs" / "own-gan"
    assert (out / "report.html").exists() and (out / "figures" / "samples.png").exists()
