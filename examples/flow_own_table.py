"""Fit a normalizing flow to your own table, then score points and draw samples.

    python examples/flow_own_table.py my_table.csv          # numeric columns (a header row is optional)
    python examples/flow_own_table.py my_table.npy          # (n, d) array, or .npz with an array named 'x'
    python examples/flow_own_table.py                       # writes demo_table.csv (a noisy spiral) and uses it

Writes runs/own-flow/ (report.html, figures/density.png for two columns, figures/samples.png, samples.npy),
own_samples.npy (500 more samples) and own_log_prob.npy (log p of every row of the table, nats per row).
"""

import sys

import numpy as np

import pinngen


def demo_table(path: str = "demo_table.csv", n: int = 3000) -> str:
    """A stand-in for your data: two columns on a noisy spiral, with a header row."""
    rng = np.random.default_rng(0)
    t = rng.uniform(0.5, 3.0 * np.pi, n)
    xy = np.column_stack([t * np.cos(t), t * np.sin(t)]) + rng.normal(0.0, 0.4, (n, 2))
    np.savetxt(path, xy, delimiter=",", header="x,y", comments="")
    return path


def main(path: str | None = None, steps: int = 3000, **evaluation) -> None:
    path = path or demo_table()
    config = {
        "kind": "flow",
        "name": "own-flow",
        "data": {"dataset": "array", "path": path, "test": 0.2},  # add "columns": ["a", "b"] to pick columns
        "model": {"flow": "nsf", "layers": 6, "width": 64},  # or maf / realnvp
        "evaluation": {"n_samples": 1000, **evaluation},
        "train": {"eval_every": 250,
                  "phases": [{"optimizer": "adam", "lr": 2e-3, "steps": steps, "batch_size": 256,
                              "schedule": "cosine", "end_lr_factor": 0.02}]},
    }
    run = pinngen.run(config, out="runs/own-flow")
    s = run.metrics["summary"]
    print(f"test log-likelihood {-s['test_nll_nats']:.3f} nats per row (Gaussian baseline "
          f"{-s['gaussian_test_nll_nats']:.3f}); invertibility error {s['inversion_error']:.2g}")
    for finding in run.findings:  # converged? overfitting? not invertible?
        print(finding)
    if path.endswith(".csv"):
        table = np.genfromtxt(path, delimiter=",", ndmin=2)
        table = table[np.isfinite(table).all(1)]  # a header row reads as NaN
    else:
        table = np.load(path)
        table = table["x"] if isinstance(table, np.lib.npyio.NpzFile) else table
    np.save("own_log_prob.npy", run.log_prob(table))  # nats per row; low values: rows the flow finds unusual
    samples = run.sample(500, seed=1)
    np.save("own_samples.npy", samples)
    print(f"samples {samples.shape} -> own_samples.npy; report: {run.path / 'report.html'}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
