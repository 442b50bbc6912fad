"""Train a denoising diffusion model on your own images (a folder or a NumPy array), then sample and score.

    python examples/diffusion_own_images.py my_images/            # root/<class>/*.png (one sub-folder is fine)
    python examples/diffusion_own_images.py my_images.npy         # (n, H, W) or (n, H, W, C) uint8, or floats in [0, 1]
    python examples/diffusion_own_images.py --demo                 # writes a small array of digits and uses it

Writes runs/own-diffusion/ (report.html, samples.npy, figures) and own_samples.npy (64 more samples).
"""

import sys
from pathlib import Path

import numpy as np

import pinngen


def main(source: str, steps: int = 3000, **evaluation) -> None:
    if source == "--demo":  # stand-in for your data: the vendored 8x8 digits as an array file
        from pinngen.data import load_dataset

        digits = load_dataset("digits")
        np.save("demo_images.npy", (digits.x_train / digits.pixel_max).astype(np.float32))  # floats in [0, 1]
        source = "demo_images.npy"
    is_folder = Path(source).is_dir()
    config = {
        "kind": "diffusion",
        "name": "own-diffusion",
        "data": {"dataset": "folder" if is_folder else "array", "path": source, "fallback": None},
        "model": {"channels": [32, 64], "attention_levels": [1]},  # widths per level; attention at the lowest
        "diffusion": {"schedule": "cosine", "prediction": "v"},
        "sampling": {"sampler": "ddim", "steps": 50},
        "evaluation": {"n_samples": 256, **evaluation},
        "train": {"eval_every": 500, "ema": {"decay": 0.995},
                  "phases": [{"optimizer": "adamw", "lr": 1e-3, "steps": steps, "batch_size": 64,
                              "warmup_steps": 200}]},
    }
    run = pinngen.run(config, out="runs/own-diffusion")
    print(run.metrics["summary"])
    for finding in run.findings:  # is training finished? which noise levels are still unlearned?
        print(finding)
    samples = run.sample(64, seed=1, sampler="ddim", steps=25)  # another sampler, no retraining
    np.save("own_samples.npy", samples)
    print(f"samples {samples.shape} in [0, 1] -> own_samples.npy; report: {run.path / 'report.html'}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "--demo")
