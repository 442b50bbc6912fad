"""examples/diffusion_own_images.py runs end to end on an array of images (and on a folder)."""

import importlib.util
from pathlib import Path

import numpy as np
from PIL import Image

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "diffusion_own_images.py"


def _example():
    spec = importlib.util.spec_from_file_location("diffusion_own_images", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_example_trains_samples_and_reports_on_own_images(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "imgs" / "blobs"
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(40):  # 12x12 grey squares of random brightness
        img = np.zeros((12, 12), np.uint8)
        img[3:9, 3:9] = rng.integers(100, 255)
        Image.fromarray(img).save(root / f"{i}.png")
    _example().main(str(tmp_path / "imgs"), steps=20, n_samples=8, timing=[], timing_samples=2,
                    trajectory_samples=0, bucket_images=8)
    samples = np.load(tmp_path / "own_samples.npy")
    assert samples.shape == (64, 12, 12) and samples.min() >= 0 and samples.max() <= 1
    assert (tmp_path / "runs" / "own-diffusion" / "report.html").exists()
