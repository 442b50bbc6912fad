"""Tables, figures and the written answer of a ``generative-compare`` run (see :mod:`compare_experiment`).

The answer is composed from the measured numbers only: for each need (best quality, diversity and class
balance, fast sampling, likelihood, small data) it names the family that measured best, the figure it measured,
and the runner-up when the two are within the noise of the metric (10 %), so the text changes with the data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pinngen.core.io import atomic_write_json

LEVEL = 0.10  # two figures within 10 % of each other are called level, not a win


def _fmt(v, spec=".3g") -> str:
    return "n/a" if v is None or (isinstance(v, float) and not np.isfinite(v)) else format(v, spec)


def _best(rows: list[dict], key: str, *, lower: bool = True) -> tuple[dict, dict | None]:
    """The best row on ``key`` and the runner-up when it is level with the best (within :data:`LEVEL`)."""
    have = [r for r in rows if r.get(key) is not None and np.isfinite(r[key])]
    order = sorted(have, key=lambda r: r[key], reverse=not lower)
    best = order[0]
    if len(order) > 1:
        a, b = best[key], order[1][key]
        if abs(a - b) <= LEVEL * max(abs(a), abs(b)):
            return best, order[1]
    return best, None


def _winner(rows, key, what, unit_fmt, *, lower=True) -> str:
    best, tie = _best(rows, key, lower=lower)
    text = f"{best['name']} ({what} {unit_fmt(best[key])}"
    if tie is not None:
        return text + f"; level with {tie['name']} at {unit_fmt(tie[key])})"
    others = [r for r in rows if r is not best and r.get(key) is not None]
    if others:
        nxt = sorted(others, key=lambda r: r[key], reverse=not lower)[0]
        text += f"; next {nxt['name']} at {unit_fmt(nxt[key])}"
    return text + ")"


def answer(rows: list[dict], small: list[dict] | None, dataset: str) -> list[list[str]]:
    """Rows ``[need, choice, measured]`` of the answer table."""
    out = []
    fd = lambda v: f"FD {v:.1f}"  # noqa: E731
    out.append(["best sample quality", _best(rows, "fd")[0]["name"], _winner(rows, "fd", "Fréchet distance", fd)])
    cov = lambda v: f"{v:.2f}"  # noqa: E731
    out.append(["diversity (mode coverage)", _best(rows, "coverage", lower=False)[0]["name"],
                _winner(rows, "coverage", "coverage", cov, lower=False)])
    bal = lambda v: f"{v:.1%}"  # noqa: E731
    best_bal = _best(rows, "min_class_share", lower=False)[0]
    short = [f"{r['name']} ({r['min_class']} {r['min_class_share']:.1%})" for r in rows if r["min_class_share"] < 0.05]
    out.append(["class balance", best_bal["name"],
                _winner(rows, "min_class_share", "rarest class", bal, lower=False)
                + (f"; below 5 %: {', '.join(short)}" if short else "; every family gives each class >= 5 %")])
    sec = lambda v: f"{v * 1e3:.2g} ms/image"  # noqa: E731
    fast, _ = _best(rows, "sample_seconds")
    slow = max(rows, key=lambda r: r["sample_seconds"])
    out.append(["fast sampling", fast["name"], _winner(rows, "sample_seconds", "", sec).replace("( ", "(")
                + (f"; {slow['sample_seconds'] / fast['sample_seconds']:.0f}x faster than {slow['name']}"
                   if slow is not fast else "")])
    with_bpd = [r for r in rows if r["bpd"] is not None]
    if with_bpd:
        b = lambda v: f"{v:.3f} bits/dim"  # noqa: E731
        none = [r["name"] for r in rows if r["bpd"] is None]
        out.append(["likelihood (density of new data)", _best(with_bpd, "bpd")[0]["name"],
                    _winner(with_bpd, "bpd", "", b).replace("( ", "(")
                    + (f"; no likelihood: {', '.join(none)}" if none else "")])
    else:
        out.append(["likelihood (density of new data)", "none measured",
                    "none of the compared families reported bits/dim"])
    if small:
        out.append([f"small data ({small[0].get('n_train', 'few')} images)", _best(small, "fd")[0]["name"],
                    _winner(small, "fd", "Fréchet distance", fd)])
    else:
        out.append(["small data", "not measured", "set compare.small_data (training images) to measure it"])
    return out


def _table(rows: list[dict], title: str) -> dict:
    cols = ["family", "kind", "FD", "precision", "recall", "density", "coverage", "rarest class share",
            "bits/dim", "training s", "steps", "sampling ms/image"]
    body = [[r["name"], r["kind"], round(r["fd"], 2), round(r["precision"], 3), round(r["recall"], 3),
             round(r["density"], 3), round(r["coverage"], 3), f"{r['min_class_share']:.3f} ({r['min_class']})",
             _fmt(r["bpd"], ".3f"), _fmt(r["train_seconds"], ".0f"), r["steps"],
             round(r["sample_seconds"] * 1e3, 3)] for r in rows]
    return {"title": title, "columns": cols, "rows": body,
            "note": f"FD of real test images against the same training images: {rows[0]['reference_fd']:.2f} "
                    "(what a perfect sampler scores). Lower FD is better; precision is fidelity, recall and "
                    "coverage diversity."}


def _figures(rows: list[dict], figs: Path, captions: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pinngen.report.plots_predictions import plot_image_grid

    imgs = [np.asarray(r["samples"]).reshape(len(r["samples"]), *np.asarray(r["samples"]).shape[1:3]) for r in rows]
    plot_image_grid(imgs, figs / "samples_side_by_side.png", row_labels=[r["name"] for r in rows],
                    title="Samples, one family per row (same data, same training budget)")
    captions["samples_side_by_side.png"] = "Uncurated samples of each family (the first of its scored set)."
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for r in rows:
        ax.scatter(r["sample_seconds"] * 1e3, r["fd"], s=60 + 300 * r["coverage"])
        ax.annotate(f"{r['name']}\ncoverage {r['coverage']:.2f}", (r["sample_seconds"] * 1e3, r["fd"]),
                    textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("sampling time per image (ms, log scale)")
    ax.set_ylabel("Fréchet distance (lower is better)")
    ax.set_title("The generative trilemma: quality, speed, diversity (marker size)")
    fig.tight_layout()
    fig.savefig(figs / "trilemma.png", dpi=110)
    plt.close(fig)
    captions["trilemma.png"] = ("Quality (Fréchet distance) against sampling time; the marker grows with "
                                "coverage (diversity). The lower left corner with big markers wins all three.")


def write(cfg, run_dir: Path, rows: list[dict], small: list[dict] | None) -> dict:
    figs = Path(run_dir) / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    captions: dict[str, str] = {}
    _figures(rows, figs, captions)
    c = cfg.compare
    if small:
        for r in small:
            r["n_train"] = c.small_data
    ans = answer(rows, small, c.dataset)
    tables = [_table(rows, f"Which generative model: {len(rows)} families, {c.budget_seconds:g} s of training each"),
              {"title": "Answer: which generative model is right for you", "columns": ["need", "choice", "measured"],
               "rows": ans}]
    if small:
        tables.append(_table(small, f"Small data: {c.small_data} training images, same budget"))
    best = ans[0][1]
    fast = ans[3][1]
    head = (f"On {c.dataset} with {c.budget_seconds:g} s of training each, {best} gave the best samples "
            f"(lowest Fréchet distance) and {fast} sampled fastest" + ("" if best != fast else ", both at once") + ".")
    notes = [f"Each family trained with the same seed ({cfg.seed}) and wall-clock budget; samples: {c.n_samples} "
             f"per family, scored against {c.dataset}'s training images by the project's classifier features.",
             "Sampling times are measured after a compiling warm-up, in this process, on this machine."]
    for r in rows:
        if r["under_produced"]:
            notes.append(f"{r['name']} under-produces {', '.join(r['under_produced'])} (share below half the data's).")
    atomic_write_json(figs / "captions.json", captions)
    strip = [{k: v for k, v in r.items() if k != "samples"} for r in rows]
    return {"summary": {"headline": head, "best_quality": best, "fastest": fast,
                        **{f"fd/{r['name']}": r["fd"] for r in rows}},
            "tables": tables, "notes": notes, "families": strip,
            "families_small": [{k: v for k, v in r.items() if k != "samples"} for r in small] if small else None}
