"""GAN players: spectral normalisation against NumPy's SVD, layer and network shapes, output ranges, labels,
and the core's group updater moving each player's parameters in its own update only."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.core.nn.mlp import trainable_filter
from pinngen.core.train import TrainConfig, fit
from pinngen.generative import gan_losses as L
from pinngen.generative.gan import (
    GAN,
    ConvDiscriminator,
    ConvGenerator,
    MLPDiscriminator,
    MLPGenerator,
    SNConv,
    SNDense,
    spectral_normalise,
)

KEY = jax.random.PRNGKey(0)


def _top_sv(m):
    return float(np.linalg.svd(np.asarray(m, np.float64), compute_uv=False)[0])


def test_spectral_normalise_divides_by_the_top_singular_value_after_enough_iterations():
    w = jax.random.normal(KEY, (20, 30)) * 0.7
    u0 = jax.random.normal(jax.random.PRNGKey(1), (20,))
    w_sn, sigma = spectral_normalise(w, u0, 60)
    np.testing.assert_allclose(float(sigma), _top_sv(w), rtol=1e-4)
    np.testing.assert_allclose(_top_sv(w_sn), 1.0, rtol=1e-4)
    _, rough = spectral_normalise(w, u0, 0)  # without iterations only a lower bound
    assert float(rough) <= _top_sv(w) * (1 + 1e-5)


def test_sn_layers_have_unit_spectral_norm_and_the_right_shapes():
    dense = SNDense(12, 5, spectral_norm=True, key=KEY)
    np.testing.assert_allclose(_top_sv(dense.matrix()), 1.0, rtol=1e-3)
    assert dense(jnp.ones((3, 12))).shape == (3, 5)
    plain = SNDense(12, 5, key=KEY)
    assert plain.u is None and np.allclose(plain.matrix(), plain.weight)
    conv = SNConv(3, 8, stride=2, spectral_norm=True, key=KEY)
    k = conv.kernel()
    assert k.shape == conv.weight.shape == (3, 3, 3, 8)
    np.testing.assert_allclose(_top_sv(np.reshape(k, (-1, 8))), 1.0, rtol=1e-3)
    assert conv(jnp.ones((2, 9, 9, 3))).shape == (2, 5, 5, 8)
    assert SNConv(3, 4, key=KEY)(jnp.ones((2, 9, 9, 3))).shape == (2, 9, 9, 4)


@pytest.mark.parametrize("shape, channels", [((28, 28, 1), (16, 8, 4)), ((9, 7, 3), (8, 4))])
def test_dcgan_players_shapes_and_ranges(shape, channels):
    g = ConvGenerator(shape, 6, channels=channels, groups=4, key=KEY)
    x = g(jax.random.normal(KEY, (5, 6)) * 10.0)
    assert x.shape == (5, *shape) and float(jnp.max(jnp.abs(x))) <= 1.0
    d = ConvDiscriminator(shape, channels=(4, 8), spectral_norm=True, key=KEY)
    logits = d(x)
    assert logits.shape == (5,) and bool(jnp.all(jnp.isfinite(logits)))


def test_mlp_players_shapes_and_label_errors():
    g = MLPGenerator(3, 4, hidden=[8], key=KEY)
    assert g(jnp.ones((7, 4))).shape == (7, 3)
    with pytest.raises(ValueError, match="unconditional generator"):
        g(jnp.ones((7, 4)), jnp.zeros(7, jnp.int32))
    cg = MLPGenerator(3, 4, hidden=[8], num_classes=2, key=KEY)
    with pytest.raises(ValueError, match="class-conditional: give labels"):
        cg(jnp.ones((7, 4)))
    a, b = cg(jnp.ones((2, 4)), jnp.array([0, 0])), cg(jnp.ones((2, 4)), jnp.array([1, 1]))
    assert not np.allclose(a, b)  # the label changes the sample
    conv = ConvGenerator((8, 8, 1), 4, channels=(8, 4), num_classes=3, groups=4, key=KEY)
    with pytest.raises(ValueError, match="class-conditional"):
        conv(jnp.ones((2, 4)))
    assert conv(jnp.ones((2, 4)), jnp.array([0, 2])).shape == (2, 8, 8, 1)
    d = MLPDiscriminator(3, hidden=[8], key=KEY)
    with pytest.raises(ValueError, match="unconditional discriminator"):
        d(jnp.ones((2, 3)), jnp.array([0, 1]))
    cd = MLPDiscriminator(3, hidden=[8], num_classes=2, key=KEY)
    ones = jnp.ones((2, 3))
    free, y0, y1 = cd(ones), cd(ones, jnp.array([0, 0])), cd(ones, jnp.array([1, 1]))
    assert not np.allclose(y0, y1) and not np.allclose(free, y0)  # projection term per class
    for bad in (dict(channels=(8,)), dict(norm="batch")):
        with pytest.raises(ValueError, match="generator"):
            ConvGenerator((8, 8, 1), 4, key=KEY, **bad)


def _gan():
    kg, kd = jax.random.split(KEY)
    return GAN(MLPGenerator(2, 3, hidden=[16], key=kg),
               MLPDiscriminator(2, hidden=[16, 16], spectral_norm=True, key=kd), 3, 0)


def _groups(d_lr, g_lr):
    return {"discriminator": dict(optimizer="adam", lr=d_lr, terms=["d_real", "d_fake"], adversarial=True),
            "generator": dict(optimizer="adam", lr=g_lr, terms=["g_adv"], adversarial=True)}


def _trainable(m):
    return [np.asarray(a) for a in jax.tree_util.tree_leaves(eqx.filter(m, trainable_filter(m)))]


def _frozen(m):
    return [np.asarray(a) for a in jax.tree_util.tree_leaves(eqx.filter(m, trainable_filter(m), inverse=True))]


@pytest.mark.parametrize("mover", ["discriminator", "generator"])
def test_the_group_updater_moves_only_the_player_whose_update_it_is(mover):
    """With the other player's learning rate negligible, its parameters stay put while every one of the mover's
    changes: each update differentiates its own objective w.r.t. its own leaves. Spectral-norm vectors never
    train."""
    data = {"x": np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)}
    lrs = (1e-2, 1e-30) if mover == "discriminator" else (1e-30, 1e-2)
    cfg = TrainConfig(phases=[dict(steps=3, batch_size=16, groups=_groups(*lrs))], eval_every=3, progress=False)
    before = _gan()
    after, h = fit(before, data, cfg, loss_terms=lambda m, b, k: L.gan_terms(m, b, k), key=KEY)
    still = "generator" if mover == "discriminator" else "discriminator"
    moved, kept = getattr(after, mover), getattr(after, still)
    assert len(_trainable(moved)) >= 4
    for a, b in zip(_trainable(getattr(before, mover)), _trainable(moved), strict=True):
        assert not np.allclose(a, b, rtol=0, atol=1e-9), mover
    for a, b in zip(_trainable(getattr(before, still)), _trainable(kept), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-20)  # moved by lr 1e-30 at most
    frozen = _frozen(before.discriminator)
    assert len(frozen) == 3  # two hidden layers' and the head's power-iteration vectors
    for a, b in zip(frozen, _frozen(after.discriminator), strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.all(np.isfinite(h.column(f"grad_norm/{mover}")))
