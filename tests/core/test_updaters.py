"""Update steps: Optax by name with arguments or from Python, and named parameter groups (two-player)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from pinngen.config import ConfigError, load_config
from pinngen.core.batching import Permutation
from pinngen.core.nn import MLP
from pinngen.core.optim import Phase
from pinngen.core.train import TrainConfig, fit


def _data(n=128, seed=0):
    x = np.random.default_rng(seed).normal(2.0, 0.5, (n, 1)).astype(np.float32)
    return {"x": x}


class Pair(eqx.Module):
    generator: MLP
    discriminator: MLP

    def __init__(self, key):
        k1, k2 = jax.random.split(key)
        self.generator = MLP(in_size=1, out_size=1, hidden=[8], activation="tanh", key=k1)
        self.discriminator = MLP(in_size=1, out_size=1, hidden=[8], activation="tanh", key=k2)


def gan_terms(model, batch, key):
    """Non-saturating GAN (Goodfellow et al. 2014): the discriminator's two terms, the generator's one."""
    z = jax.random.normal(key, batch["x"].shape)
    fake = model.generator(z)
    d_real, d_fake = model.discriminator(batch["x"]), model.discriminator(fake)
    return {"d_real": jnp.mean(jax.nn.softplus(-d_real)), "d_fake": jnp.mean(jax.nn.softplus(d_fake)),
            "g_adv": jnp.mean(jax.nn.softplus(-d_fake))}


GROUPS = {"discriminator": dict(optimizer="adam", args={"b1": 0.5}, lr=1e-2, terms=["d_real", "d_fake"], steps=3,
                            adversarial=True),
          "generator": dict(optimizer="adam", args={"b1": 0.5}, lr=5e-3, terms=["g_adv"], adversarial=True)}


def _hand_written(model, data, steps, batch_size, seed, key):
    """The same alternation written out: 3 discriminator updates (a fresh minibatch each), then one generator
    update, per step, with the keys and minibatches the loop uses."""
    params, static = eqx.partition(model, eqx.is_inexact_array)
    tx_d, tx_g = optax.adam(1e-2, b1=0.5), optax.adam(5e-3, b1=0.5)
    mask_d = jax.tree_util.tree_map_with_path(lambda p, _: p[0].name == "discriminator", params)
    mask_g = jax.tree_util.tree_map(lambda m: not m, mask_d)
    s_d, s_g = tx_d.init(eqx.filter(params, mask_d)), tx_g.init(eqx.filter(params, mask_g))
    sampler = Permutation(batch_size=batch_size, batches=3)
    idx = sampler.host_inputs(len(data["x"]), seed, 0, 0, steps)
    phase_key = jax.random.fold_in(key, 0)
    x = jnp.asarray(data["x"])

    def obj(own, rest, batch, k, names):
        t = gan_terms(eqx.combine(own, rest, static), batch, k)
        return sum(t[n] for n in names)

    @jax.jit
    def step(params, s_d, s_g, i, idx):
        k = jax.random.fold_in(phase_key, i)
        for j in range(3):
            own, rest = eqx.partition(params, mask_d)
            g = jax.grad(obj)(own, rest, {"x": x[idx[j]]}, jax.random.fold_in(k, j), ("d_real", "d_fake"))
            u, s_d = tx_d.update(g, s_d, own)
            params = eqx.combine(optax.apply_updates(own, u), rest)
        own, rest = eqx.partition(params, mask_g)
        g = jax.grad(obj)(own, rest, {"x": x[idx[0]]}, jax.random.fold_in(k, 1000), ("g_adv",))
        u, s_g = tx_g.update(g, s_g, own)
        return eqx.combine(optax.apply_updates(own, u), rest), s_d, s_g

    for i in range(steps):
        params, s_d, s_g = step(params, s_d, s_g, i, jnp.asarray(idx[i]))
    return eqx.combine(params, static)


def test_two_groups_alternate_exactly_like_a_hand_written_step():
    data, key = _data(), jax.random.PRNGKey(0)
    cfg = TrainConfig(phases=[dict(steps=40, batch_size=16, groups=GROUPS)], eval_every=10, progress=False)
    model, h = fit(Pair(key), data, cfg, loss_terms=gan_terms, seed=2, key=key)
    ref = _hand_written(Pair(key), data, 40, 16, 2, key)
    for a, b in zip(jax.tree_util.tree_leaves(model), jax.tree_util.tree_leaves(ref), strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)
    # per-objective curves and what they are made of
    assert h.meta["objectives"] == {"discriminator": ["d_real", "d_fake"], "generator": ["g_adv"]}
    for col in ("loss/discriminator", "loss/generator", "lr/discriminator", "grad_norm/generator", "loss/g_adv"):
        assert np.all(np.isfinite(h.column(col))), col
    np.testing.assert_allclose(h.column("loss/generator"), h.column("loss/g_adv"), rtol=1e-6)
    np.testing.assert_allclose(h.column("loss/discriminator"), h.column("loss/d_real") + h.column("loss/d_fake"),
                               rtol=1e-5)
    assert h.meta["phases"][0]["optimizer"] == "discriminator+generator"


def test_each_group_moves_only_its_own_parameters():
    data, key = _data(), jax.random.PRNGKey(1)
    only_d = {"discriminator": dict(GROUPS["discriminator"]), "generator": dict(GROUPS["generator"], lr=1e-30)}
    cfg = TrainConfig(phases=[dict(steps=5, groups=only_d)], eval_every=5, progress=False)
    before = Pair(key)
    after, _ = fit(before, data, cfg, loss_terms=gan_terms, key=key)
    moved = lambda a, b: not np.allclose(a, b, rtol=0, atol=1e-12)  # noqa: E731
    assert all(moved(a, b) for a, b in zip(jax.tree_util.tree_leaves(before.discriminator),
                                           jax.tree_util.tree_leaves(after.discriminator), strict=True))
    assert not any(moved(a, b) for a, b in zip(jax.tree_util.tree_leaves(before.generator),
                                               jax.tree_util.tree_leaves(after.generator), strict=True))


@pytest.mark.parametrize("groups, message", [
    ({"critic": dict(terms=["d_real", "d_fake"]), "generator": dict(terms=["g_adv"])}, "matches no parameter"),
    ({"discriminator": dict(terms=["d_real"]), "generator": dict(terms=["g_adv"])}, "belong to no group"),
    ({"discriminator": dict(terms=["d_real", "d_fake", "nope"]), "generator": dict(terms=["g_adv"])},
     "unknown loss term"),
    ({"discriminator": dict(terms=["d_real", "d_fake"])}, "belong to no group"),
    ({"discriminator": dict(terms=["d_real", "d_fake"]), "generator": dict(terms=["g_adv"], params=["generator",
                                                                                              "discriminator"])},
     "belongs to groups"),
])
def test_bad_groups_are_one_line_errors_before_training(groups, message):
    cfg = TrainConfig(phases=[dict(steps=5, groups=groups)], progress=False)
    with pytest.raises(ValueError, match=message) as err:
        fit(Pair(jax.random.PRNGKey(0)), _data(), cfg, loss_terms=gan_terms)
    assert "\n" not in str(err.value)


def test_optax_by_name_with_arguments_and_from_python():
    x = np.linspace(-1, 1, 64, dtype=np.float32)[:, None]
    data = {"x": x, "y": np.sin(3 * x)}

    def mse(m, b, k):
        return {"mse": jnp.mean((m(b["x"]) - b["y"]) ** 2)}

    net = MLP(in_size=1, out_size=1, hidden=[16], activation="tanh", key=jax.random.PRNGKey(0))
    runs = {}
    for name, phase in {"lion": dict(optimizer="lion", lr=3e-3, args={"b1": 0.95}),
                        "named_adam": dict(optimizer="adam", lr=1e-2, args={"b1": 0.5}),
                        "python_adam": dict(transform=optax.adam(1e-2, b1=0.5))}.items():
        _, h = fit(net, data, TrainConfig(phases=[dict(steps=50, **phase)], eval_every=50, progress=False),
                   loss_terms=mse)
        runs[name] = h.column("loss")
        assert runs[name][-1] < 0.5 * runs[name][0], name
    np.testing.assert_allclose(runs["named_adam"], runs["python_adam"], rtol=1e-6)
    assert np.all(np.isnan(fit(net, data, TrainConfig(phases=[dict(steps=2, transform=optax.sgd(0.1))],
                                                         progress=False), loss_terms=mse)[1].column("lr")))


def test_unknown_optimizer_or_argument_names_the_valid_ones():
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'; choose one of .*adam"):
        Phase(optimizer="adamm")
    with pytest.raises(ValueError, match="adam has no argument.*beta1.*its arguments are b1, b2"):
        Phase(optimizer="adam", args={"beta1": 0.5})
    raw = {"kind": "dense", "train": {"phases": [{"optimizer": "adam", "args": {"beta1": 0.5}}]}}
    with pytest.raises(ConfigError, match=r"^config error: train\.phases\.0: .*beta1") as err:
        load_config(raw)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="cannot use lbfgs"):
        Phase(groups={"a": dict(optimizer="lbfgs", terms=["x"])})


def test_full_batch_groups_see_the_whole_data_in_every_inner_update():
    data, key = _data(32), jax.random.PRNGKey(3)
    cfg = TrainConfig(phases=[dict(steps=4, groups=GROUPS)], eval_every=4, progress=False)
    seen = []

    def terms(model, batch, k):
        seen.append(batch["x"].shape)
        return gan_terms(model, batch, k)

    _, h = fit(Pair(key), data, cfg, loss_terms=terms, key=key)
    assert set(seen) == {(32, 1)} and np.all(np.isfinite(h.column("loss")))


def test_adversarial_players_are_not_judged_by_their_loss_level(tmp_path):
    from pinngen.report.plots import plot_loss_curves

    data, key = _data(256), jax.random.PRNGKey(0)
    cfg = TrainConfig(phases=[dict(steps=200, batch_size=32, groups=GROUPS)], eval_every=100, progress=False)
    _, h = fit(Pair(key), data, cfg, loss_terms=gan_terms, key=key)
    assert h.meta["context"]["per_objective"]["generator"] == {"optimizer": "adam", "lr": 5e-3, "adversarial": True}
    codes = {(f.code, f.message.split(":")[0]) for f in h.diagnose()}
    assert {("adversarial", "Discriminator"), ("adversarial", "Generator")} <= codes
    assert not {c for c, _ in codes} & {"no_progress", "still_learning", "converged", "unstable"}
    plain = {n: {k: v for k, v in g.items() if k != "adversarial"} for n, g in GROUPS.items()}
    _, h2 = fit(Pair(key), data, cfg.model_copy(update={"phases": [Phase(steps=200, batch_size=32, groups=plain)]}),
                loss_terms=gan_terms, key=key)
    assert "adversarial" not in {f.code for f in h2.diagnose()}
    assert plot_loss_curves(h, h.diagnose(), tmp_path / "gan.png").stat().st_size > 10_000
