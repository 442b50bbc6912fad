"""PyTorch's L-BFGS (as DeepXDE configures it) from the point ``lbfgs_probe.py`` exported: same network weights,
input scaling, points and loss (mean squares of the Burgers residual, boundary and initial terms, unweighted).

    bench/.venv-deepxde/bin/python bench/lbfgs_probe_torch.py [--iters 1000] [--start bench/out/lbfgs_probe_start.npz]
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=1000)
    ap.add_argument("--start", default=str(Path(__file__).resolve().parent / "out" / "lbfgs_probe_start.npz"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    d = np.load(args.start)
    n_layers = len([k for k in d.files if k.startswith("W")])
    Ws = [torch.tensor(d[f"W{i}"], requires_grad=True) for i in range(n_layers)]
    bs = [torch.tensor(d[f"b{i}"], requires_grad=True) for i in range(n_layers)]
    lo, hi = torch.tensor(d["lo"], dtype=torch.float32), torch.tensor(d["hi"], dtype=torch.float32)

    def net(x):
        z = 2 * (x - lo) / (hi - lo) - 1
        for i in range(n_layers - 1):
            z = torch.tanh(z @ Ws[i].T + bs[i])
        return z @ Ws[-1].T + bs[-1]

    xp = torch.tensor(d["batch_pde_x"], requires_grad=True)
    xb, vb = torch.tensor(d["batch_bc_x"]), torch.tensor(d["batch_bc_value"])
    xi, vi = torch.tensor(d["batch_ic_x"]), torch.tensor(d["batch_ic_value"])
    nu = 0.01 / math.pi

    def loss_fn():
        u = net(xp)
        du = torch.autograd.grad(u.sum(), xp, create_graph=True)[0]
        ux, ut = du[:, :1], du[:, 1:]
        uxx = torch.autograd.grad(ux.sum(), xp, create_graph=True)[0][:, :1]
        r = ut + u * ux - nu * uxx
        return (r**2).mean() + ((net(xb) - vb) ** 2).mean() + ((net(xi) - vi) ** 2).mean()

    start = float(loss_fn())
    opt = torch.optim.LBFGS(Ws + bs, lr=1, max_iter=args.iters, max_eval=int(args.iters * 1.25), tolerance_grad=1e-8,
                            tolerance_change=0, history_size=100, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    c0 = time.process_time()
    opt.step(closure)
    cpu = time.process_time() - c0
    st = opt.state[opt._params[0]]
    with torch.no_grad():
        pred = net(torch.tensor(d["grid_points"], dtype=torch.float32)).numpy()[:, 0]
    rel = np.linalg.norm(pred - d["grid_u"]) / np.linalg.norm(d["grid_u"])
    print(f"torch L-BFGS: {st['n_iter']} iterations, {st['func_evals']} evaluations, loss {start:.3e} -> "
          f"{float(loss_fn()):.3e}, rel L2 {rel:.4f}, {cpu:.1f} s CPU")


if __name__ == "__main__":
    main()
