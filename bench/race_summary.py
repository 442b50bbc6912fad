"""The markdown summary of ``pinn_vs_deepxde.py``'s results: per-step medians and ratios, and the
time-to-accuracy race per seed (medians, per-seed ratios, first crossing of each level)."""

from __future__ import annotations

import statistics

TOLS = (1e-1, 5e-2, 1e-2, 1e-3)  # relative L2 levels whose first crossing is recorded


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, spec=".2f", none="-"):
    return none if v is None else format(v, spec)


def _reach_time(a: dict, tol: float) -> float:
    """Training wall seconds to the first crossing of ``tol``; +inf when the run never got there."""
    hit = a["reached"].get(str(tol))
    return hit["wall_s"] if hit else float("inf")


def _median_reach(runs: list, tol: float) -> str:
    """Median over seeds of the time to ``tol`` (a run that never got there counts as slower than any)."""
    times = sorted(_reach_time(a, tol) for a in runs)
    got = sum(t < float("inf") for t in times)
    m = statistics.median(times)
    where = f"{got}/{len(times)} reached"
    return f"{m:.1f} s ({where})" if m < float("inf") else f"not reached by the median seed ({where})"


def _median_ratio(runs: list, base_runs: list, tol: float) -> str:
    """Median over seed numbers of (peer time / pinngen time) to ``tol``; '> x' bounds for runs that never got there."""
    base = {a.get("seed", 0): a for a in base_runs if "error" not in a}
    ratios = []
    for a in runs:
        b = base.get(a.get("seed", 0))
        if b is None:
            continue
        mine, theirs = _reach_time(a, tol), _reach_time(b, tol)
        if theirs == float("inf") and mine == float("inf"):
            continue
        if theirs == float("inf"):
            ratios.append(0.0)  # the peer got there, pinngen did not
        elif mine == float("inf"):
            ratios.append(a["total_wall_s"] / theirs)  # a lower bound
        else:
            ratios.append(mine / theirs)
    if not ratios:
        return "-"
    return f"{statistics.median(ratios):.2f} (per seed: {', '.join(f'{r:.2f}' for r in ratios)})"


def summarise(results: dict, args, meta: dict) -> str:
    lines = [f"# pinngen vs DeepXDE: Burgers (2-[20]x3-1 tanh, {meta['points']} points, float32)",
             "", f"date {meta['date']}; host {meta['host']}; {meta['cpus']} CPUs; load (1/5/15 min) before "
             f"{meta['load_before']}, after {meta['load_after']}; versions: {meta['versions']}; pinngen tree: "
             f"{meta['git']}; command: `python bench/pinn_vs_deepxde.py {' '.join(meta['argv'])}`", ""]
    for n in args.threads:
        steps = [r for r in results["step"] if r["threads"] == n]
        sides = [s for s in ("pinngen", "deepxde-pytorch", "deepxde-jax", "bare-jax")
                 if any(r.get("side_key") == s for r in steps)]
        runs = [r for r in results["accuracy"] if r["threads"] == n]
        acc = {}
        for r in runs:
            acc.setdefault(r["side_key"], []).append(r)
        seeds = sorted({r.get("seed", 0) for r in runs})
        lines += [f"## threads = {n}, confined to {n} core(s) (OMP/MKL/OPENBLAS={n}, torch.set_num_threads({n}), "
                  f"XLA_FLAGS={meta['xla_flags'][str(n)]!r})", ""]
        lines += [f"| backend | Adam step wall ms | Adam step CPU ms | compile + first step s | time to 1e-2 "
                  f"wall s, median of {len(seeds)} seed(s) | time to 1e-3 | final rel L2, median | "
                  "step wall / pinngen | step CPU / pinngen | to 1e-2 wall / pinngen (median of per-seed ratios) |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        by_round = {}
        for r in steps:
            if "error" not in r:
                by_round.setdefault(r["round"], {})[r["side_key"]] = r
        for side in sides:
            ok = [r for r in steps if r.get("side_key") == side and "error" not in r]
            if not ok:
                err = next(r["error"] for r in steps if r.get("side_key") == side)
                lines.append(f"| {side} | failed: {err.splitlines()[0][:200]} | | | | | | | | |")
                continue
            sw, sc = med([r["step_wall_ms"] for r in ok]), med([r["step_cpu_ms"] for r in ok])
            first = med([r["first_step_wall_s"] for r in ok])
            rw = med([rd[side]["step_wall_ms"] / rd["pinngen"]["step_wall_ms"] for rd in by_round.values()
                      if side in rd and "pinngen" in rd])
            rc = med([rd[side]["step_cpu_ms"] / rd["pinngen"]["step_cpu_ms"] for rd in by_round.values()
                      if side in rd and "pinngen" in rd])
            good = [a for a in acc.get(side, []) if "error" not in a]
            t2 = t3 = final = r2 = "-"
            if good:
                t2, t3 = _median_reach(good, 1e-2), _median_reach(good, 1e-3)
                final = f"{med([a['final_rel_l2'] for a in good]):.2e}"
                r2 = _median_ratio(good, acc.get("pinngen", []), 1e-2) if side != "pinngen" else "1"
            elif acc.get(side):
                t2 = f"failed: {acc[side][0]['error'].splitlines()[0][:120]}"
            elif side == "bare-jax":
                t2 = t3 = "(per-step lower bound only)"
            lines.append(f"| {side} | {fmt(sw)} | {fmt(sc)} | {fmt(first, '.1f')} | {t2} | {t3} | {final} | "
                         f"{fmt(rw)} | {fmt(rc)} | {r2} |")
        lines.append("")
        lines.append(f"Per-step: medians of {args.repeats} alternating rounds; ratios are medians of the per-round "
                     "ratios. Per-round values (wall ms / CPU ms):")
        for side in sides:
            vals = ", ".join(f"{r['step_wall_ms']:.2f}/{r['step_cpu_ms']:.2f}" for r in steps
                             if r.get("side_key") == side and "error" not in r)
            lines.append(f"- {side}: {vals}")
        for side, group in acc.items():
            for a in group:
                if "error" in a:
                    lines.append(f"- {side} seed {a.get('seed', 0)}: failed: {a['error'].splitlines()[0][:200]}")
                    continue
                adam_end = [e for e in a["trace"] if e["phase"] == "adam"]
                if adam_end:
                    e = adam_end[-1]
                    lines.append(f"- {side} seed {a.get('seed', 0)}: Adam ended at step {e['step']} after "
                                 f"{e['wall_s']:.1f} s wall ({e['cpu_s']:.1f} s CPU) with rel L2 {e['rel_l2']:.2e}; "
                                 f"load {a['load_before']} -> {a['load_after']}"
                                 + (f"; {a['note']}" if a.get("note") else ""))
        lines += ["", "First crossing of each relative L2 level, per seed (training wall s / CPU s, step; for a peer, "
                  "the ratio of its wall time to pinngen's with the same seed number):", "",
                  "| backend | seed | " + " | ".join(f"rel L2 <= {t:g}" for t in TOLS) + " | final rel L2 (steps) |",
                  "|---|---|" + "---|" * (len(TOLS) + 1)]
        base = {a.get("seed", 0): a for a in acc.get("pinngen", []) if "error" not in a}
        for side, group in acc.items():
            for a in group:
                if "error" in a:
                    continue
                cells = []
                for t in TOLS:
                    hit = a["reached"].get(str(t))
                    if not hit:
                        cells.append(f"not in {a['total_wall_s']:.0f} s")
                        continue
                    cell = f"{hit['wall_s']:.1f} / {hit['cpu_s']:.1f} s, step {hit['step']}"
                    ref = base.get(a.get("seed", 0), {}).get("reached", {}).get(str(t))
                    if ref and side != "pinngen":
                        cell += f" (x{hit['wall_s'] / ref['wall_s']:.2f})"
                    cells.append(cell)
                lines.append(f"| {side} | {a.get('seed', 0)} | " + " | ".join(cells)
                             + f" | {a['final_rel_l2']:.2e} ({a['steps']}) |")
        lines.append("")
    return "\n".join(lines)
