"""Figures of the autoencoder report beyond loss curves and reconstructions: latent PCA and traversal,
error saliency, and the audit (a classifier's view of images decoded from latent samples)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from pinngen.core.saliency import integrated_gradients, saliency
from pinngen.core.setup import Setup
from pinngen.generative import autoencoder as ae
from pinngen.generative import interpret

if TYPE_CHECKING:
    from pinngen.generative.ae_experiment import Config


@eqx.filter_jit
def error_saliency(model, x):
    def error(xx):  # (n,) per-image mean squared reconstruction error
        return jnp.mean(jnp.square(model.reconstruct(xx) - xx).reshape(xx.shape[0], -1), axis=1)

    return saliency(error, x)


@eqx.filter_jit
def _classifier_ig(clf_model, x, steps: int):
    return integrated_gradients(lambda xx: clf_model(xx.reshape(xx.shape[0], -1)), x, steps=steps)


def grid_indices(y, n: int) -> np.ndarray:
    """``n`` test indices, one per class first (in class order), then the next unused ones."""
    first = [int(np.flatnonzero(y == c)[0]) for c in np.unique(y)][:n]
    rest = [i for i in range(len(y)) if i not in set(first)][: n - len(first)]
    return np.asarray(first + rest)


def latent_figures(cfg, ref, x_test, y_test, classes, figs, captions) -> list[str]:
    model = ref["model"]
    sel = np.arange(min(len(x_test), 3000))
    codes = ae.encode_batched(model, x_test[sel])
    _, ratio = interpret.latent_pca(codes, 2)
    interpret.plot_latent_pca(codes, y_test[sel], figs / "latent_pca.png", classes=classes,
                              title=f"Latent codes of {ref['name']} (test images), first two PCs")
    captions["latent_pca.png"] = "Test images' latent codes projected on their first two principal components."
    notes = [f"The first two principal components of {ref['name']}'s latent codes explain "
             f"{100 * float(np.sum(ratio)):.0f}% of their variance."]
    if cfg.evaluation.traversal_dims:
        mean, std, dims = interpret.traversal_from_codes(codes, k=cfg.evaluation.traversal_dims)
        values = (-2.0, -1.0, 0.0, 1.0, 2.0)
        grid = interpret.latent_traversal(lambda z: ae.decode_batched(model, z), mean, dims=dims, values=values,
                                          scale=std)
        interpret.plot_latent_traversal(grid, figs / "latent_traversal.png", dims=dims, values=values,
                                        title=ref["name"])
        captions["latent_traversal.png"] = ("One latent coordinate varied per row (the most spread ones), "
                                            "from the mean code, in units of that coordinate's std.")
    return notes


def run_audit(cfg: Config, setup: Setup, model, figs, captions):
    from pinngen.generative import audit
    from pinngen.report.plots import plot_image_grid

    ex = setup.extras
    clf = audit.train_classifier(setup.data["x"], ex["y_train"], test_images=ex["x_test"],
                                 test_labels=ex["y_test"], classes=ex["classes"],
                                 steps=cfg.evaluation.classifier_steps, seed=cfg.seed)
    codes = ae.encode_batched(model, setup.data["x"][:5000])
    mean, cov = codes.mean(axis=0), np.cov(codes, rowvar=False)
    rng = np.random.default_rng(cfg.seed)
    z = rng.multivariate_normal(mean, np.atleast_2d(cov), size=cfg.evaluation.n_samples, method="eigh")
    samples = ae.decode_batched(model, z)
    counts = audit.class_histogram(clf, samples)
    table = audit.coverage(counts, ex["y_train"], ex["classes"])
    table["title"] = "Audit: classes of images decoded from a Gaussian fitted to the latent codes"
    plot_image_grid([samples[:10], samples[10:20]], figs / "latent_samples.png",
                    title="Decoded samples z ~ N(mean, cov of training codes)")
    captions["latent_samples.png"] = ("Images decoded from Gaussian samples in latent space (an autoencoder "
                                      "is not trained as a generator: expect blur and mixtures).")
    notes = [f"Audit classifier (dense, {cfg.evaluation.classifier_steps} Adam steps, trained on the same "
             f"training images): test accuracy {100 * clf.accuracy:.1f}% on {clf.n_test} images.",
             f"Decoded latent samples by class: total variation distance {table['total_variation']:.3f} from "
             f"the training class mix" + (f"; never generated: {', '.join(table['missing'])}" if table["missing"]
                                         else "") + "."]
    pick = grid_indices(ex["y_test"], cfg.evaluation.n_images)
    ig = _classifier_ig(clf.model, jnp.asarray(ex["x_test"][pick]), 64)
    pred = np.argmax(clf.probabilities(ex["x_test"][pick]), axis=1)
    interpret.plot_attributions(ex["x_test"][pick], np.asarray(ig.attributions), figs / "integrated_gradients.png",
                                signed=True, labels=[f"-> {ex['classes'][c]}" for c in pred],
                                title="Integrated gradients of the audit classifier's predicted class (black baseline)")
    captions["integrated_gradients.png"] = ("Integrated gradients (Sundararajan et al. 2017) of the audit "
                                            "classifier: red pixels raise the predicted class, blue lower it.")
    gap = float(np.max(np.abs(np.asarray(ig.gap))))
    notes.append(f"Integrated gradients completeness: attributions sum to f(x) - f(baseline) within {gap:.1e} "
                 f"(64 trapezoid steps; largest |f(x) - f(baseline)| "
                 f"{float(np.max(np.abs(np.asarray(ig.f_x - ig.f_baseline)))):.2f}).")
    summary = {"classifier_accuracy": clf.accuracy, "samples_total_variation": table["total_variation"],
               "ig_completeness_gap": gap}
    return {k: table[k] for k in ("title", "columns", "rows", "note")}, notes, summary
