"""Latent traversals and PCA, and the interpretation figures."""

import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.generative import interpret


def _x(n=3):
    return jnp.asarray(np.random.default_rng(0).uniform(0, 1, (n, 8, 8)), jnp.float32)


def test_latent_traversal_varies_one_coordinate_per_row():
    def decode(z):  # (m, 4) -> (m, 2, 2): the code itself as an image
        return z.reshape(z.shape[0], 2, 2)

    z0 = np.array([0.1, 0.2, 0.3, 0.4])
    grid = interpret.latent_traversal(decode, z0, dims=[2, 0], values=[-1.0, 0.0, 1.0], scale=[1, 1, 2, 1])
    assert grid.shape == (2, 3, 2, 2)
    flat = grid.reshape(2, 3, 4)
    np.testing.assert_allclose(flat[0, :, 2], [0.3 - 2, 0.3, 0.3 + 2], rtol=1e-6)
    np.testing.assert_allclose(flat[1, :, 0], [0.1 - 1, 0.1, 0.1 + 1], rtol=1e-6)
    np.testing.assert_allclose(flat[0, :, [0, 1, 3]], np.tile([[0.1], [0.2], [0.4]], 3), rtol=1e-6)
    with pytest.raises(ValueError, match="out of range"):
        interpret.latent_traversal(decode, z0, dims=[4])


def test_codes_helpers_and_figures(tmp_path):
    codes = np.random.default_rng(0).normal(size=(50, 5)) * np.array([5.0, 1, 1, 0.1, 3])
    mean, std, dims = interpret.traversal_from_codes(codes, k=2)
    assert dims == [0, 4] and mean.shape == (5,)
    proj, ratio = interpret.latent_pca(codes, 2)
    assert proj.shape == (50, 2) and 0.5 < ratio.sum() <= 1.0
    labels = np.arange(50) % 3
    assert interpret.plot_latent_pca(codes, labels, tmp_path / "pca.png", classes=["a", "b", "c"]).exists()
    grid = interpret.latent_traversal(lambda z: jnp.tile(z[:, :1, None], (1, 4, 4)) * 0.1, mean, dims=dims)
    assert interpret.plot_latent_traversal(grid, tmp_path / "trav.png", dims=dims,
                                           values=(-2, -1, 0, 1, 2)).exists()
    x = np.asarray(_x())
    assert interpret.plot_attributions(x, x - 0.5, tmp_path / "ig.png", signed=True).exists()
