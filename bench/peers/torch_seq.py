"""The PyTorch half of ``bench/seq_vs_torch.py`` (issue 12): the training-step time of ``torch.nn.LSTM`` and of
``torch.nn.TransformerEncoderLayer`` at the sizes of the race.

Runs ONLY inside its own virtual environment (the CPU torch wheel), never the project's. Set-up (the driver
creates it when missing)::

    python3.11 -m venv /work/venvs/torch
    /work/venvs/torch/bin/pip install torch==2.13.0     # FIRST, this exact spec: the local CPU wheel
    /work/venvs/torch/bin/pip install numpy

Run (the driver adds ``taskset -c CORE``; this script also pins itself with ``os.sched_setaffinity``)::

    /work/venvs/torch/bin/python bench/peers/torch_seq.py --case lstm256 --warmup 5 --steps 30 --core 1

Cases (float32, batch-first, one training step = zero_grad, forward, loss, backward, ``torch.optim.Adam``
lr 1e-3 step; the default Adam implementation unless ``--adam foreach|fused``):

- ``lstm256`` / ``lstm128``: a character LM: ``nn.Embedding(65, 64)`` -> ``nn.LSTM(64, H, batch_first=True)``
  (1 layer) -> ``nn.Linear(H, 65)``, cross-entropy over every step; batch 64 windows of 128 ids.
- ``block``: ``nn.TransformerEncoderLayer(128, 4, 512, dropout=0, activation=<GELU, tanh form>,
  batch_first=True, norm_first=True)`` on ``(32, 128, 128)`` inputs, MSE against a random target per batch
  (pinngen's ``jax.nn.gelu`` is the tanh form by default).

Batches are drawn before timing (a pool of ``--pool`` random batches, used in turn). ``--warmup`` steps are run
and discarded, then ``--steps`` steps are each timed (``time.perf_counter`` and ``time.process_time``). Prints one
JSON line: per-step times in ms, the first and last loss, threads, versions.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from functools import partial

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--case", required=True, choices=["lstm256", "lstm128", "block"])
ap.add_argument("--warmup", type=int, default=5)
ap.add_argument("--steps", type=int, default=30)
ap.add_argument("--pool", type=int, default=8)
ap.add_argument("--core", type=int, default=None)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--adam", default="default", choices=["default", "foreach", "fused"])
ARGS = ap.parse_args()
if ARGS.core is not None:
    os.sched_setaffinity(0, {ARGS.core})
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

VOCAB, EMBED, LR, SEED = 65, 64, 1e-3, 0


class CharLSTM(nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, EMBED)
        self.lstm = nn.LSTM(EMBED, hidden, num_layers=1, batch_first=True)
        self.head = nn.Linear(hidden, VOCAB)

    def forward(self, ids):
        h, _ = self.lstm(self.embed(ids))
        return self.head(h)


def build(case: str, rng: np.random.Generator):
    """(model, loss_fn(model, batch) -> scalar, list of batches)."""
    if case.startswith("lstm"):
        model = CharLSTM(int(case[4:]))
        ce = nn.CrossEntropyLoss()

        def loss_fn(m, b):
            x, y = b
            return ce(m(x).reshape(-1, VOCAB), y.reshape(-1))

        text = rng.integers(0, VOCAB, 200_000)
        batches = []
        for _ in range(ARGS.pool):
            s = rng.integers(0, text.size - 129, 64)[:, None] + np.arange(128)
            batches.append((torch.from_numpy(text[s]).long(), torch.from_numpy(text[s + 1]).long()))
        return model, loss_fn, batches
    model = nn.TransformerEncoderLayer(128, 4, 512, dropout=0.0, activation=partial(F.gelu, approximate="tanh"),
                                       batch_first=True, norm_first=True)

    def loss_fn(m, b):
        x, t = b
        return torch.mean((m(x) - t) ** 2)

    def normal():
        return torch.from_numpy(rng.standard_normal((32, 128, 128)).astype(np.float32))

    batches = [(normal(), normal()) for _ in range(ARGS.pool)]
    return model, loss_fn, batches


def main() -> None:
    torch.set_num_threads(ARGS.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(SEED)
    model, loss_fn, batches = build(ARGS.case, np.random.default_rng(SEED))
    model.train()
    kw = {} if ARGS.adam == "default" else {ARGS.adam: True}
    opt = torch.optim.Adam(model.parameters(), lr=LR, **kw)

    def step(b):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model, b)
        loss.backward()
        opt.step()
        return loss.detach()

    losses = [float(step(batches[i % len(batches)])) for i in range(ARGS.warmup)]
    wall, cpu = [], []
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    for i in range(ARGS.steps):
        b = batches[(ARGS.warmup + i) % len(batches)]
        w0, c0 = time.perf_counter(), time.process_time()
        loss = step(b)
        wall.append(1e3 * (time.perf_counter() - w0))
        cpu.append(1e3 * (time.process_time() - c0))
        last = float(loss)
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    n = max(ARGS.steps, 1)
    print(json.dumps(dict(side="torch", case=ARGS.case, wall_ms=wall, cpu_ms=cpu, first_loss=losses[0] if losses
                          else None, last_loss=last, user_ms=1e3 * (r1.ru_utime - r0.ru_utime) / n,
                          sys_ms=1e3 * (r1.ru_stime - r0.ru_stime) / n, minflt=(r1.ru_minflt - r0.ru_minflt) / n,
                          threads=torch.get_num_threads(), adam=ARGS.adam,
                          torch=torch.__version__, numpy=np.__version__,
                          params=sum(p.numel() for p in model.parameters()),
                          affinity=sorted(os.sched_getaffinity(0)))))


if __name__ == "__main__":
    main()
