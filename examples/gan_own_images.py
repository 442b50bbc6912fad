"""Train a GAN on your own images (a folder of PNG/JPEG files), then sample from it.

    python examples/gan_own_images.py my_images/      # my_images/<class>/*.png; one sub-folder is fine
    python examples/gan_own_images.py                 # writes demo_images/ (the 8x8 digits as PNGs) first

A DCGAN (upsampling + 3x3 convolutions, GroupNorm) against a spectrally normalised discriminator, hinge loss,
a faster discriminator than generator (TTUR), Adam with b1 = 0, and a moving average of the generator for
sampling. Writes runs/own-gan/ (report.html, samples.npy, figures) and own_gan_samples.npy (64 more samples).
"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image

import pinngen


def write_demo_folder(root: str = "demo_images", n: int = 400) -> str:
    """Stand-in for your data: the vendored 8x8 digits, one sub-folder per digit."""
    from pinngen.data import load_dataset

    digits = load_dataset("digits")
    pixels = np.clip(digits.x_train / digits.pixel_max * 255, 0, 255).astype(np.uint8)
    for i, (img, label) in enumerate(zip(pixels[:n], digits.y_train[:n], strict=True)):
        folder = Path(root) / str(int(label))
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img.reshape(8, 8)).save(folder / f"{i:04d}.png")
    return root


def main(folder: str | None = None, steps: int = 3000, **evaluation) -> None:
    folder = folder or write_demo_folder()
    players = {"optimizer": "adam", "args": {"b1": 0.0, "b2": 0.9}}
    config = {
        "kind": "gan",
        "name": "own-gan",
        "data": {"dataset": "folder", "path": folder, "fallback": None},
        "model": {"architecture": "dcgan", "latent_dim": 32, "g_channels": [64, 32], "d_channels": [32, 64],
                  "spectral_norm": True},
        "gan": {"loss": "hinge"},
        "evaluation": {"n_samples": 256, **evaluation},
        "train": {"eval_every": 250, "ema": {"decay": 0.999, "start_step": min(500, steps // 2)},
                  "phases": [{"steps": steps, "batch_size": 64, "groups": {
                      "discriminator": {**players, "lr": 4e-4, "terms": ["d_real", "d_fake"]},
                      "generator": {**players, "lr": 1e-4, "terms": ["g_adv"]}}}]},
    }
    run = pinngen.run(config, out="runs/own-gan")
    print(run.metrics["summary"])
    for finding in run.findings:  # mode collapse? a discriminator that wins outright? progress of the samples
        print(finding)
    samples = run.sample(64, seed=1)
    np.save("own_gan_samples.npy", samples)
    print(f"samples {samples.shape} in [0, 1] -> own_gan_samples.npy; report: {run.path / 'report.html'}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
