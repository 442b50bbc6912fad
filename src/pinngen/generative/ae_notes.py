"""Words of the autoencoder report: the variants and per-class tables, the budget and per-class notes, and
:func:`claim_verdicts`, the lecture's claims tested against the variants' numbers (as the table the
ae-compare report leads with, :func:`claims_table`, or as sentences, :func:`claims`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pinngen.report.lead import finite, number, percent

if TYPE_CHECKING:
    from pinngen.generative.ae_experiment import Config

TIE = 0.05  # relative differences below 5% are called ties (one seed, no error bars)


def budget_note(cfg: Config, n_train: int, results) -> str:
    parts = []
    for p in cfg.train.phases:
        batch = p.batch_size or n_train
        parts.append(f"{p.steps} {p.optimizer} steps (lr {p.lr:g}) of batch {batch} = "
                     f"{p.steps * batch / max(n_train, 1):.2f} epochs of {n_train} images")
    total = sum(r["train_s"] for r in results)
    return (f"Budget per variant: {'; then '.join(parts)}. Training took {total:.0f} s for "
            f"{len(results)} variant(s) (the loop's clock, compilation included).")


def variant_table(results) -> dict:
    rows = [[r["name"], r["output"].replace("_", "+"), r["latent"], r["optimizer"], r["test_mse"], r["test_bce"],
             r["detail"], r["params"], round(r["train_s"], 1), r["steps"], r["val_loss"], r["diagnosis"]]
            for r in results]
    return {"title": "Variants (same data, same budget)", "rows": rows,
            "columns": ["variant", "output+loss", "bottleneck", "optimizer", "test MSE", "test BCE", "detail",
                        "parameters", "train s", "steps", "final val loss", "loss-curve diagnosis"],
            "note": "Test MSE and BCE are per-pixel means over the test images, pixels in [0, 1]; BCE clips "
                    "predictions to [1e-7, 1 - 1e-7], so linear outputs are comparable. detail: mean absolute "
                    "difference of neighbouring pixels of the reconstructions / that of the originals (1: as "
                    "much fine structure as the originals; below: blurrier; above: noisier). The val loss is "
                    "each variant's own training loss, comparable only between variants with the same loss."}


def class_table(results, ref, y, classes, flagged) -> dict:
    rows = []
    for c in np.unique(y):
        sel = y == c
        rows.append([classes[c], int(sel.sum())] + [float(np.mean(r["mse"][sel])) for r in results]
                    + [float(np.mean(flagged[sel]))])
    return {"title": "Per-class test MSE", "rows": rows,
            "columns": ["class", "n"] + [r["name"] for r in results] + [f"flagged ({ref['name']})"],
            "note": "flagged: the fraction of the class whose reconstruction error exceeds the anomaly threshold "
                    "(a validation quantile) of the reference variant."}


def class_notes(ref, y, classes, flagged, anomaly) -> list[str]:
    per = {classes[c]: float(np.mean(ref["mse"][y == c])) for c in np.unique(y)}
    worst, best = max(per, key=per.get), min(per, key=per.get)
    frac = {classes[c]: float(np.mean(flagged[y == c])) for c in np.unique(y)}
    most = max(frac, key=frac.get)
    return [f"Per class ({ref['name']}): {worst} is reconstructed worst (MSE {per[worst]:.4f}, "
            f"{per[worst] / per[best]:.1f}x the best class, {best}).",
            f"Anomaly threshold = the {100 * anomaly.quantile:g}% quantile of validation errors "
            f"({anomaly.threshold:.4g}); {100 * float(np.mean(flagged)):.1f}% of test images exceed it "
            f"(expected about {100 * (1 - anomaly.quantile):.0f}% if test looks like validation); the most "
            f"flagged class is {most} ({100 * frac[most]:.1f}%): the model treats what it reconstructs badly "
            f"as unusual, whether or not it is."]


def _ratio_words(r: float) -> str:
    if r < 1 - TIE:
        return f"{100 * (1 - r):.0f}% lower"
    if r > 1 + TIE:
        return f"{100 * (r - 1):.0f}% higher"
    return f"within {100 * TIE:.0f}% ({r:.2f}x)"


CLAIMS_TITLE = "The lecture's claims, tested"


def claims(results) -> list[str]:
    """Sentences that test the lecture's claims against the variants' numbers (nothing is assumed)."""
    return [f"Claim '{v['claim']}' {v['setting']}: {v['verdict']}: {v['evidence']}." for v in claim_verdicts(results)] \
        + comparison_notes(results)


def claims_table(results) -> dict:
    """The verdicts as the table the ae-compare report leads with."""
    rows = [[v["claim"], v["setting"].strip("()"), v["verdict"], v["evidence"]] for v in claim_verdicts(results)]
    return {"title": CLAIMS_TITLE, "columns": ["claim", "setting", "verdict", "evidence"], "rows": rows,
            "note": f"One seed per variant: differences within {100 * TIE:.0f}% are called ties. SUPPORTED, PARTLY "
                    "SUPPORTED, NOT SUPPORTED or CONTRADICTED by this run's numbers, not by the lecture's."}


def comparison_notes(results) -> list[str]:
    """Test MSE of variants that differ in one setting only, and how ties are called."""
    return (_pair_notes(results, "latent", "bottleneck") + _pair_notes(results, "optimizer", "optimizer")
            + [f"One seed per variant: differences within {100 * TIE:.0f}% are called ties."])


def claim_verdicts(results) -> list[dict]:
    """One ``{claim, setting, verdict, evidence}`` per claim and (bottleneck, optimizer) group."""
    groups: dict[tuple, dict] = {}
    for r in results:
        groups.setdefault((r["latent"], r["optimizer"]), {})[r["output"]] = r
    out = []
    for (latent, opt), g in groups.items():
        where = f"(bottleneck {latent}, {opt})"

        def add(claim, verdict, evidence, where=where):
            out.append({"claim": claim, "setting": where, "verdict": verdict, "evidence": evidence})

        lin, smse, sbce = g.get("linear_mse"), g.get("sigmoid_mse"), g.get("sigmoid_bce")
        if lin is not None:
            others = [o for o, r in g.items() if o != "linear_mse" and "still_learning" in r["codes"]]
            drops = ", ".join(f"{o} {100 * r['tail_drop']:.1f}%" for o, r in g.items())
            drops = f" (validation loss fell over the last quarter of training: {drops})"
            if "still_learning" in lin["codes"]:
                tail = (f"; but {', '.join(others)} are still learning too, so this budget does not single it out"
                        if others else "; the sigmoid variants are not")
                add("linear+MSE had not finished learning", "SUPPORTED",
                    f"its loss curve is still learning at the end{tail}{drops}")
            else:
                add("linear+MSE had not finished learning", "NOT SUPPORTED",
                    f"its loss curve's diagnosis is '{lin['diagnosis']}'{drops}")
        sig = [r for o, r in g.items() if o != "linear_mse"]
        if lin is not None and sig:
            top = max(r["detail"] for r in sig)
            verdict, why = (("SUPPORTED", "more fine structure than the originals; ") if lin["detail"] > 1 + TIE else
                            ("PARTLY SUPPORTED", "more than the sigmoid variants, not more than the originals; ")
                            if lin["detail"] > top * (1 + TIE) else ("NOT SUPPORTED", ""))
            add("linear+MSE reconstructions are too detailed", verdict,
                f"{why}detail {lin['detail']:.2f} of the originals' vs {top:.2f} for the best-detailed sigmoid variant")
        if lin is not None and smse is not None:
            r = smse["test_mse"] / lin["test_mse"]
            verdict = ("SUPPORTED" if r < 0.8 else "PARTLY SUPPORTED (better, not much better)" if r < 1 - TIE
                       else "NOT SUPPORTED" if r <= 1 + TIE else "CONTRADICTED")
            add("sigmoid+MSE is much better than linear+MSE", verdict,
                f"test MSE {smse['test_mse']:.4f} vs {lin['test_mse']:.4f}, {_ratio_words(r)} "
                "('much better' taken as at least 20% lower)")
        if smse is not None and sbce is not None:
            r = sbce["test_mse"] / smse["test_mse"]
            rb = sbce["test_bce"] / smse["test_bce"]
            verdict = "SUPPORTED" if r < 1 - TIE else "NOT SUPPORTED (a tie)" if r <= 1 + TIE else "CONTRADICTED"
            add("sigmoid+BCE is better still", verdict,
                f"test MSE {sbce['test_mse']:.4f} vs {smse['test_mse']:.4f} ({_ratio_words(r)}); "
                f"test BCE {_ratio_words(rb)}")
    return out


def _pair_notes(results, field: str, label: str) -> list[str]:
    """Compare variants that differ only in ``field`` with the first value of that field."""
    values = list(dict.fromkeys(r[field] for r in results))
    if len(values) < 2:
        return []
    others = [f for f in ("output", "latent", "optimizer") if f != field]
    index = {(r[others[0]], r[others[1]], r[field]): r for r in results}
    notes = []
    for v in values[1:]:
        parts = []
        for r in sorted(results, key=lambda r: r["order"]):
            alt = index.get((r[others[0]], r[others[1]], v))
            if r[field] == values[0] and alt is not None:
                tag = f"{r[others[0]]} ({others[1].replace('latent', 'bottleneck')} {r[others[1]]})"
                parts.append(f"{tag}: {_ratio_words(alt['test_mse'] / r['test_mse'])}")
        if parts:
            notes.append(f"Test MSE with {label} {v} relative to {values[0]}: {'; '.join(parts)}.")
    return notes


# --------------------------------------------------------------------------- headlines (Kind.headline)
def headline(metrics: dict) -> str:
    """Per-pixel test error of the (reference) autoencoder and how many test images it flags."""
    s = metrics.get("summary", {})
    if not finite(s.get("test_mse")):
        return ""
    text = f"Test MSE {number(s['test_mse'])} per pixel"
    text += f" (BCE {number(s['test_bce'])})" if finite(s.get("test_bce")) else ""
    text += f" for {s['reference']}" if s.get("reference") else ""
    text += f" ({s['params']:,} parameters)" if isinstance(s.get("params"), int) else ""
    if finite(s.get("test_flagged_fraction")):
        text += f"; {percent(s['test_flagged_fraction'])} of the test images exceed the anomaly threshold"
    return text + "."


def compare_headline(metrics: dict) -> str:
    """The best variant, and each of the lecture's claims with its verdict per setting."""
    s = metrics.get("summary", {})
    if not s.get("best_variant") or not finite(s.get("best_test_mse")):
        return headline(metrics)
    text = f"Best of {s.get('n_variants', 'the')} variants: {s['best_variant']} (test MSE {number(s['best_test_mse'])})"
    table = next((t for t in metrics.get("tables") or [] if t.get("title") == CLAIMS_TITLE), None)
    verdicts: dict[str, list[tuple[str, str]]] = {}
    for claim, setting, verdict, *_ in (table or {}).get("rows") or []:
        verdicts.setdefault(claim, []).append((verdict, setting))
    said = []
    for claim, vs in verdicts.items():
        if len({v for v, _ in vs}) == 1:
            where = f" in all {len(vs)} settings" if len(vs) > 1 else ""
            said.append(f"'{claim}' {vs[0][0]}{where}")
        else:
            said.append(f"'{claim}' " + ", ".join(f"{v} ({w})" for v, w in vs))
    return text + (". The lecture's claims: " + "; ".join(said) if said else "") + "."
