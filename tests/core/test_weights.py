"""Loss-weight schedules: traced functions of the step, validated against the loss terms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.core.nn import MLP
from pinngen.core.train import TrainConfig, fit
from pinngen.core.weights import WeightSchedule, multiplier


@pytest.mark.parametrize("spec, steps, expect", [
    (dict(kind="linear", steps=10), [0, 5, 10, 20], [0.0, 0.5, 1.0, 1.0]),
    (dict(kind="linear", start=4, steps=4, start_value=1.0, end_value=0.0), [0, 4, 6, 8, 9], [1, 1, 0.5, 0, 0]),
    (dict(kind="cosine", steps=10), [0, 5, 10], [0.0, 0.5, 1.0]),
    (dict(kind="step", start=2, steps=3), [0, 4, 5, 9], [0, 0, 1, 1]),
    (dict(kind="cyclical", period=10, ramp_fraction=0.5), [0, 2, 5, 9, 10, 12], [0, 0.4, 1, 1, 0, 0.4]),
])
def test_schedule_values(spec, steps, expect):
    f = multiplier(WeightSchedule(**spec))
    np.testing.assert_allclose([float(f(s)) for s in steps], expect, atol=1e-6)


def _two(model, batch, key):
    r = model(batch["x"]) - batch["y"]
    return {"fit": jnp.mean(r**2), "small": jnp.mean(model(batch["x"]) ** 2)}


def test_weights_move_every_step_inside_chunks():
    x = np.linspace(-1, 1, 32, dtype=np.float32)[:, None]
    data = {"x": x, "y": np.sin(3 * x)}
    net = MLP(in_size=1, out_size=1, hidden=[8], key=jax.random.PRNGKey(0))
    cfg = TrainConfig(phases=[dict(steps=30, lr=1e-2)], eval_every=30, chunk=30, progress=False,
                      weight_schedules={"small": dict(kind="linear", steps=20)})
    _, h = fit(net, data, cfg, loss_terms=_two, weights={"small": 0.5})
    np.testing.assert_allclose(h.column("weight/small"), 0.5 * np.minimum(np.arange(30) / 20, 1.0), rtol=1e-6)
    np.testing.assert_allclose(h.column("loss"), h.column("loss/fit") + h.column("weight/small") *
                               h.column("loss/small"), rtol=1e-5)
    # a Python callable works too (traced)
    _, h2 = fit(net, data, cfg.model_copy(update={"weight_schedules": {}}), loss_terms=_two,
                weight_schedules={"small": lambda s: jnp.where(s < 10, 0.0, 2.0)})
    assert np.all(h2.column("weight/small")[:10] == 0) and np.all(h2.column("weight/small")[10:] == 2)


def test_schedule_for_unknown_term_is_an_error():
    cfg = TrainConfig(phases=[dict(steps=3)], progress=False, weight_schedules={"kl": dict(steps=5)})
    net = MLP(in_size=1, out_size=1, hidden=[4], key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="weight schedule for 'kl' names no loss term; the terms are"):
        fit(net, {"x": np.zeros((4, 1), np.float32), "y": np.zeros((4, 1), np.float32)}, cfg, loss_terms=_two)
    with pytest.raises(ValueError, match="cyclical weight schedule needs period"):
        WeightSchedule(kind="cyclical")
