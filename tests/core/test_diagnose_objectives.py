"""diagnose() on runs with several objectives (meta["objectives"], e.g. a GAN's generator and
discriminator): each objective judged on its own curve and terms, the summed ``loss`` not at all.
Synthetic histories, and one small alternating two-player training written here in plain JAX + Optax."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from pinngen.core.diagnose import diagnose
from pinngen.core.history import History

from .diagnose_curves import alternating_curve, codes, converged_curve, power_law_curve

OBJECTIVES = {"generator": ["gen_adv"], "discriminator": ["disc_real", "disc_fake", "gp"]}


def two_player(gen: np.ndarray, disc_terms: dict[str, np.ndarray], *, lr=(1e-3, 1e-3), phase="adam") -> History:
    """A History laid out as the two-player trainer records it: per-objective totals, lr and grad norms,
    per-term columns, and ``loss`` the (meaningless) sum."""
    n = len(gen)
    disc = sum(disc_terms.values())
    cols = {"loss": gen + disc, "loss/generator": gen, "loss/discriminator": disc, "loss/gen_adv": gen,
            **{f"loss/{k}": v for k, v in disc_terms.items()},
            "lr/generator": np.full(n, lr[0]), "lr/discriminator": np.full(n, lr[1]),
            "grad_norm/generator": np.ones(n), "grad_norm/discriminator": np.ones(n)}
    h = History()
    h.extend(np.arange(n), phase, cols)
    h.meta["objectives"] = {k: list(v) for k, v in OBJECTIVES.items()}
    return h


def _disc(total: np.ndarray) -> dict[str, np.ndarray]:
    return {"disc_real": 0.5 * total, "disc_fake": 0.4 * total, "gp": 0.1 * total}


def by_objective(findings) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in findings:
        label, _, _ = f.message.partition(": ")
        assert label in ("Generator", "Discriminator"), f.message
        out.setdefault(label, []).append(f.code)
    return out


def test_term_names_leave_out_the_objective_totals():
    h = two_player(converged_curve(100), _disc(converged_curve(100, seed=1)))
    assert sorted(h.term_names()) == ["disc_fake", "disc_real", "gen_adv", "gp"]
    h.meta.pop("objectives")
    assert "generator" in h.term_names()  # without the meta they are ordinary columns


def test_each_objective_is_judged_on_its_own_curve():
    h = two_player(converged_curve(500), _disc(alternating_curve(500, seed=1)))
    findings = diagnose(h)
    assert by_objective(findings) == {"Discriminator": ["unstable"], "Generator": ["converged"]}
    series = {f.code: f.series for f in findings}
    assert series == {"unstable": "loss/discriminator", "converged": "loss/generator"}


def test_the_sum_is_not_judged():
    h = two_player(converged_curve(500), _disc(converged_curve(500, seed=1)))
    loss = h.column("loss")
    loss[250:] = np.inf  # were the sum judged, this would be "diverged"
    assert by_objective(diagnose(h)) == {"Generator": ["converged"], "Discriminator": ["converged"]}
    h.meta.pop("objectives")
    assert "diverged" in codes(diagnose(h))


def test_term_balance_is_per_objective():
    n = 500
    terms = {"disc_real": converged_curve(n), "disc_fake": converged_curve(n, seed=2),
             "gp": 1e-5 * converged_curve(n, seed=3)}
    findings = diagnose(two_player(converged_curve(n, seed=4), terms))
    imbalanced = [f for f in findings if f.code == "terms_imbalanced"]
    assert len(imbalanced) == 1 and imbalanced[0].message.startswith("Discriminator: ")
    assert "'gp'" in imbalanced[0].message and imbalanced[0].series == "loss/disc_real"


def test_each_objective_quotes_its_own_learning_rate_and_optimizer():
    h = two_player(converged_curve(500), _disc(alternating_curve(500, seed=1)), lr=(2e-4, 0.3))
    hint = next(f.hint for f in diagnose(h) if f.code == "unstable")
    assert "0.3" in hint and "0.0002" not in hint
    ctx = {"per_objective": {"discriminator": {"optimizer": "sgd"}}, "optimizer": "adam"}
    hint = next(f.hint for f in diagnose(h, context=ctx) if f.code == "unstable")
    assert "for sgd" in hint


def test_one_objective_is_an_ordinary_run():
    h = two_player(power_law_curve(500), _disc(converged_curve(500)))
    h.meta["objectives"] = {"generator": ["gen_adv"]}
    assert all(": " not in f.message.split(" ")[0] for f in diagnose(h))


def test_marching_windows_inside_objectives():
    n = 400
    h = two_player(converged_curve(n), _disc(converged_curve(n, seed=1)))
    g = History()
    cols = {c: h.column(c) for c in h.columns}
    g.extend(np.arange(n // 2), "w1/adam", {c: v[: n // 2] for c, v in cols.items()})
    g.extend(np.arange(n // 2, n), "w2/adam", {c: v[n // 2:] for c, v in cols.items()})
    g.meta = {**h.meta, "windows": 2}
    messages = [f.message for f in diagnose(g)]
    assert messages and all(m.startswith(("Generator: Window ", "Discriminator: Window ")) for m in messages)


# ---------------------------------------------------------------------------- a real two-player training
def _gan_history(d_lr: float, d_optimizer, steps: int = 300) -> History:
    """A 1-D GAN (data N(2, 0.5^2)): generator and discriminator MLPs, each with its own Optax optimizer,
    one discriminator step then one generator step per round, recorded as the two-player trainer does."""
    kg, kd, key = jax.random.split(jax.random.PRNGKey(0), 3)
    gen = eqx.nn.MLP(1, 1, 16, 1, activation=jnp.tanh, key=kg)
    disc = eqx.nn.MLP(1, 1, 16, 1, activation=jnp.tanh, key=kd)
    g_opt, d_opt = optax.adam(1e-3), d_optimizer(d_lr)
    g_state, d_state = g_opt.init(eqx.filter(gen, eqx.is_array)), d_opt.init(eqx.filter(disc, eqx.is_array))
    weights = {"disc_real": 1.0, "disc_fake": 1.0, "gp": 0.1}

    def logits(d, x):
        return jax.vmap(d)(x)[:, 0]  # (batch,)

    def disc_loss(d, g, x, z):
        slope = jax.vmap(jax.grad(lambda xi: d(xi)[0]))(x)  # (batch, 1): R1 gradient penalty on real data
        terms = {"disc_real": jnp.mean(jax.nn.softplus(-logits(d, x))),
                 "disc_fake": jnp.mean(jax.nn.softplus(logits(d, jax.vmap(g)(z)))),
                 "gp": jnp.mean(jnp.sum(slope**2, axis=-1))}
        return sum(weights[k] * v for k, v in terms.items()), terms

    def gen_loss(g, d, z):
        terms = {"gen_adv": jnp.mean(jax.nn.softplus(-logits(d, jax.vmap(g)(z))))}  # non-saturating
        return terms["gen_adv"], terms

    @eqx.filter_jit
    def round_(gen, disc, g_state, d_state, key):
        kx, kz1, kz2 = jax.random.split(key, 3)
        x = 2.0 + 0.5 * jax.random.normal(kx, (64, 1))
        (d_total, d_terms), grads = eqx.filter_value_and_grad(disc_loss, has_aux=True)(
            disc, gen, x, jax.random.normal(kz1, (64, 1)))
        updates, d_state = d_opt.update(grads, d_state, eqx.filter(disc, eqx.is_array))
        disc = eqx.apply_updates(disc, updates)
        d_norm = optax.tree.norm(grads)
        (g_total, g_terms), grads = eqx.filter_value_and_grad(gen_loss, has_aux=True)(
            gen, disc, jax.random.normal(kz2, (64, 1)))
        updates, g_state = g_opt.update(grads, g_state, eqx.filter(gen, eqx.is_array))
        gen = eqx.apply_updates(gen, updates)
        logs = {"loss/discriminator": d_total, "loss/generator": g_total, "grad_norm/discriminator": d_norm,
                "grad_norm/generator": optax.tree.norm(grads),
                **{f"loss/{k}": v for k, v in {**d_terms, **g_terms}.items()}}
        return gen, disc, g_state, d_state, logs

    rows = []
    for k in jax.random.split(key, steps):
        gen, disc, g_state, d_state, logs = round_(gen, disc, g_state, d_state, k)
        rows.append(logs)
    cols = {name: np.array([float(r[name]) for r in rows]) for name in rows[0]}
    cols["loss"] = cols["loss/generator"] + cols["loss/discriminator"]
    cols["lr/generator"], cols["lr/discriminator"] = np.full(steps, 1e-3), np.full(steps, d_lr)
    h = History()
    h.extend(np.arange(steps), "adam", cols)
    h.meta["objectives"] = {k: list(v) for k, v in OBJECTIVES.items()}
    return h


def test_a_real_alternating_training_is_diagnosed_per_player():
    good = diagnose(_gan_history(1e-3, optax.adam))
    found = by_objective(good)
    assert set(found) == {"Generator", "Discriminator"}  # both players judged, each finding labelled
    assert all(f.series != "loss" for f in good)  # the sum is never the subject
    assert "diverged" not in codes(good) and "Discriminator" in found
    assert "unstable" not in found["Discriminator"]
    # A discriminator learning rate far too high for SGD: the discriminator is unstable, in its own words.
    bad = diagnose(_gan_history(30.0, optax.sgd))
    unstable = [f for f in bad if f.code in ("unstable", "diverged")]
    assert any(f.message.startswith("Discriminator: ") and f.series == "loss/discriminator" for f in unstable)
    assert any("30" in f.hint for f in unstable if f.message.startswith("Discriminator: "))
