"""The peer DDPM of issue 10, built with HF diffusers: trains for a wall-clock budget, then samples with DDIM-50.

Runs ONLY inside its own virtual environment (CPU torch wheel + diffusers), never the project's. Build it with
``python3 -m venv /work/venvs/diffusers``, then ``/work/venvs/diffusers/bin/pip install torch==2.13.0`` (this exact
spec: the local CPU wheel) and ``pip install torch==2.13.0 diffusers numpy``. Run:

    /work/venvs/diffusers/bin/python bench/peers/diffusers_ddpm.py --train-seconds 1200 --n 2000 --seed 0 \
        --threads 2 --out-dir bench/out/ddpm_vs_diffusers/peer-s0

Set-up (exactly the issue's peer): ``UNet2DModel(sample_size=32, in_channels=1, out_channels=1,
block_out_channels=(32, 64, 64), layers_per_block=1)`` with the last down block and the first up block carrying
self-attention (``AttnDownBlock2D`` / ``AttnUpBlock2D``), ``norm_num_groups=8``; Fashion-MNIST train images read
straight from the IDX gz files, scaled to [-1, 1] and zero-padded 28x28 -> 32x32 with the value -1 (black, the
images' background); batch 64; AdamW lr 1e-3 with 200 linear warm-up steps, then constant; an EMA of the weights
with a constant decay 0.995 (by hand, the same rule as pinngen's core EMA); a 1,000-step linear DDPMScheduler
(diffusers' defaults: beta 1e-4 .. 0.02), epsilon prediction, MSE. Training runs until ``--train-seconds`` of wall
clock have passed (checked before every step; the clock starts at the first step, after data and model set-up).
Sampling: DDIMScheduler built from the DDPM scheduler's config, 50 steps, eta 0, with the EMA weights, in batches,
timed on its own (``--sample-batch``, default 64: faster per image here than 250); samples are cropped back to
28x28 and mapped to [0, 1].

Writes ``samples.npy`` ((N, 28, 28) float32) and ``result.json`` (training images/s, steps, epochs seen, sampling
seconds per image, parameter count, torch threads, versions) into ``--out-dir``; prints the JSON.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from diffusers import DDIMScheduler, DDPMScheduler, UNet2DModel

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
BATCH = 64
LR = 1e-3
WARMUP = 200
EMA_DECAY = 0.995
TRAIN_STEPS = 1000
PAD = 2  # 28 + 2 * 2 = 32
SKIP = 10  # steady-state throughput is also reported from this step on (torch's first steps are slower)


def read_idx_images(path: Path) -> np.ndarray:
    """An IDX3 uint8 image file (gz or not) as ``(n, rows, cols)`` uint8, parsed by hand (magic 0x00000803)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    magic, n, rows, cols = np.frombuffer(raw[:16], dtype=">u4")
    if magic != 0x803:
        raise ValueError(f"{path}: IDX magic {magic:#x}, expected 0x803 (uint8 images); is this an image file?")
    return np.frombuffer(raw[16:], dtype=np.uint8).reshape(int(n), int(rows), int(cols))


def load_train(folder: Path) -> np.ndarray:
    """Fashion-MNIST train images as float32 ``(60000, 1, 32, 32)`` in [-1, 1], padded with -1."""
    path = folder / "train-images-idx3-ubyte.gz"
    if not path.is_file():
        path = folder / "train-images-idx3-ubyte"
    if not path.is_file():
        raise ValueError(f"Fashion-MNIST not found in {folder}; install it with `apt-get install -y "
                         f"dataset-fashion-mnist` or pass --data DIR")
    x = read_idx_images(path).astype(np.float32) / 127.5 - 1.0
    x = np.pad(x, ((0, 0), (PAD, PAD), (PAD, PAD)), constant_values=-1.0)
    return np.ascontiguousarray(x[:, None])


def build_model() -> UNet2DModel:
    return UNet2DModel(
        sample_size=32, in_channels=1, out_channels=1, block_out_channels=(32, 64, 64), layers_per_block=1,
        down_block_types=("DownBlock2D", "DownBlock2D", "AttnDownBlock2D"),
        up_block_types=("AttnUpBlock2D", "UpBlock2D", "UpBlock2D"), norm_num_groups=8)


def batches(n: int, rng: np.random.Generator):
    """Endless minibatch indices: a fresh permutation each epoch, the last partial batch dropped."""
    while True:
        perm = rng.permutation(n)
        for i in range(0, n - BATCH + 1, BATCH):
            yield perm[i:i + BATCH]


def train(model: UNet2DModel, ema: UNet2DModel, data: np.ndarray, sched: DDPMScheduler, seconds: float,
          rng: np.random.Generator) -> dict:
    opt = torch.optim.AdamW(model.parameters(), lr=LR)  # torch's default weight decay 0.01
    warm = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / WARMUP))
    params = [p for p in model.parameters()]
    ema_params = [p for p in ema.parameters()]
    x_all = torch.from_numpy(data)
    model.train()
    steps, loss_sum, losses, t_skip = 0, 0.0, [], None
    t0 = time.perf_counter()
    c0 = time.process_time()
    for idx in batches(len(data), rng):
        if time.perf_counter() - t0 >= seconds:
            break
        x0 = x_all[torch.from_numpy(idx)]
        noise = torch.randn_like(x0)
        t = torch.randint(0, sched.config.num_train_timesteps, (BATCH,), dtype=torch.long)
        xt = sched.add_noise(x0, noise, t)
        loss = torch.nn.functional.mse_loss(model(xt, t).sample, noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        warm.step()
        with torch.no_grad():
            torch._foreach_lerp_(ema_params, params, 1.0 - EMA_DECAY)
        steps += 1
        if steps == SKIP:
            t_skip = time.perf_counter()
        loss_sum += loss.item()
        if steps % 100 == 0:
            losses.append(loss_sum / 100)
            loss_sum = 0.0
    end = time.perf_counter()
    wall, cpu = end - t0, time.process_time() - c0
    steady = (steps - SKIP) * BATCH / (end - t_skip) if t_skip is not None and steps > SKIP else None
    return dict(train_wall_s=wall, train_cpu_s=cpu, steps=steps, images_seen=steps * BATCH,
                train_images_per_s=steps * BATCH / wall, train_images_per_s_after_first_steps=steady,
                epochs=steps * BATCH / len(data), loss_per_100_steps=losses)


@torch.inference_mode()
def sample(ema: UNet2DModel, ddpm: DDPMScheduler, n: int, steps: int, batch: int,
           seed: int) -> tuple[np.ndarray, float]:
    """DDIM (eta 0) from pure noise with the EMA weights; returns (N, 28, 28) in [0, 1] and the wall seconds."""
    ddim = DDIMScheduler.from_config(ddpm.config)
    ddim.set_timesteps(steps)
    ema.eval()
    gen = torch.Generator().manual_seed(10_000 + seed)
    out = []
    t0 = time.perf_counter()
    for start in range(0, n, batch):
        m = min(batch, n - start)
        x = torch.randn((m, 1, 32, 32), generator=gen)
        for t in ddim.timesteps:
            eps = ema(x, t).sample
            x = ddim.step(eps, t, x, eta=0.0).prev_sample
        out.append(x[:, 0, PAD:PAD + 28, PAD:PAD + 28].clamp(-1, 1).add(1).div(2).numpy())
    return np.concatenate(out).astype(np.float32), time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train-seconds", type=float, required=True, help="wall-clock training budget")
    ap.add_argument("--n", type=int, default=2000, help="number of samples")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--ddim-steps", type=int, default=50)
    ap.add_argument("--sample-batch", type=int, default=64, help="images sampled at a time")
    ap.add_argument("--data", type=Path, default=FASHION_DIR, help="folder with the Fashion-MNIST IDX files")
    ap.add_argument("--out-dir", type=Path, required=True, help="writes samples.npy and result.json here")
    args = ap.parse_args()
    if args.train_seconds <= 0 or args.n <= 0:
        raise SystemExit(f"--train-seconds ({args.train_seconds}) and --n ({args.n}) must be positive")

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    args.out_dir.mkdir(parents=True, exist_ok=True)

    data = load_train(args.data)
    model = build_model()
    ema = build_model()
    ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"peer UNet2DModel: {n_params:,} parameters; {len(data)} train images; torch threads "
          f"{torch.get_num_threads()}", flush=True)
    ddpm = DDPMScheduler(num_train_timesteps=TRAIN_STEPS, beta_schedule="linear", prediction_type="epsilon")

    tr = train(model, ema, data, ddpm, args.train_seconds, rng)
    print(f"trained {tr['steps']} steps ({tr['epochs']:.2f} epochs) in {tr['train_wall_s']:.1f} s: "
          f"{tr['train_images_per_s']:.1f} images/s", flush=True)
    images, s_wall = sample(ema, ddpm, args.n, args.ddim_steps, args.sample_batch, args.seed)
    np.save(args.out_dir / "samples.npy", images)

    import diffusers

    result = dict(
        side="diffusers", seed=args.seed, train_seconds_budget=args.train_seconds, n=args.n, **tr,
        sample_wall_s=s_wall, sample_s_per_image=s_wall / args.n, sampler=f"ddim-{args.ddim_steps} eta 0 (EMA)",
        sample_batch=args.sample_batch, params=n_params, torch_threads=torch.get_num_threads(),
        batch=BATCH, lr=LR, warmup=WARMUP, ema_decay=EMA_DECAY, weight_decay=0.01, pad_value=-1.0,
        scheduler=dict(ddpm.config), samples=str(args.out_dir / "samples.npy"),
        affinity=sorted(os.sched_getaffinity(0)), loadavg=os.getloadavg(),
        versions=dict(torch=torch.__version__, diffusers=diffusers.__version__, numpy=np.__version__,
                      python=platform.python_version()))
    with open(args.out_dir / "result.json", "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1, default=str)
    print(json.dumps({k: v for k, v in result.items() if k not in ("scheduler", "loss_per_100_steps")},
                     default=str), flush=True)


if __name__ == "__main__":
    main()
