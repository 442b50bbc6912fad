"""The variational autoencoder (Kingma & Welling 2014; beta-VAE: Higgins et al. 2017).

A Gaussian encoder ``q(z|x) = N(mu(x), diag exp(log_var(x)))``, a prior ``p(z)`` (the standard normal, or a
learned flow: :mod:`pinngen.generative.vae_prior`), and a decoder that outputs the parameters of a per-pixel
observation model ``p(x|z)``:

* ``logistic`` (default): discretised logistic over the image's ``levels`` (location and log-scale per
  pixel); a proper distribution over 8-bit pixels, so its bound is in honest bits/dim.
* ``gaussian``: mean per pixel and a ``learned`` per-pixel log-variance or a ``fixed`` ``sigma``, on
  uniformly dequantised pixels (a lower bound on the discrete likelihood; see
  :mod:`pinngen.generative.likelihood`).
* ``bernoulli``: logits with the fused, exact ``t l - softplus(l)`` cross-entropy on intensities. Fine for
  training and reconstructions; a likelihood only when the data are binary (``levels = 2``).

Images go in and come out as intensities ``x = pixel / (levels - 1)`` in [0, 1], shape ``(n, H, W)``
(what :meth:`pinngen.data.ImageData.as_float` gives). ``architecture="dense"`` flattens them through MLPs;
``"conv"`` uses :class:`pinngen.core.nn.ConvEncoder` / ``ConvDecoder``.

Loss terms (nats per image, per-sample sums averaged over the batch): ``reconstruction`` =
``-E_q log p(x|z)`` from one reparameterised draw (Kingma & Welling 2014, Eq. 7), and ``kl`` = the closed
form ``KL(q(z|x) || N(0, I))``, or with a flow prior the Monte-Carlo ``log q(z|x) - log p(z)`` at the same
draw. Their sum is the negative ELBO. The beta-VAE objective ``reconstruction + beta kl`` is a training
weight, not part of the terms: ``fit(..., weights={"kl": beta})``, so the recorded terms always add up to
the negative ELBO and ``diagnose()`` sees the true KL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from pinngen.core.nn import MLP, ConvDecoder, ConvEncoder
from pinngen.generative import likelihood as L

ARCHITECTURES = ("dense", "conv")
VARIANCES = ("learned", "fixed")
# Decoder outputs per pixel for each observation model.
_PARAMS = {"logistic": 2, "gaussian": 2, "bernoulli": 1}
_MIN_LOG_SCALE = -7.0  # logistic scale floor, as PixelCNN++ (soft here, so gradients never vanish)
_MIN_LOG_VAR = -14.0  # just under the variance of U[0, 1/256): (1/256)^2 / 12 = exp(-13.6)


def _soft_floor(raw, floor: float):
    return floor + jax.nn.softplus(raw - floor)


class VAE(eqx.Module):
    """Variational autoencoder on ``(n, H, W)`` images in [0, 1].

    Args (keyword-only; the hyperparameters):
        image_shape: ``(H, W)``.
        latent_dim: size of ``z``.
        architecture: ``dense`` (MLP encoder/decoder with ``hidden`` widths, mirrored in the decoder) or
            ``conv`` (stride-2 convolutions with ``channels``, mirrored).
        observation: ``logistic``, ``gaussian`` or ``bernoulli`` (see the module docstring).
        variance: for ``gaussian``: ``learned`` per pixel, or ``fixed`` at ``sigma``.
        levels: number of pixel values (256 for 8-bit images, 17 for the 0..16 digits).
        activation: hidden activation name.
        prior: ``None`` for the standard normal prior, or a :class:`pinngen.generative.vae_prior.FlowPrior`
            (built by the caller) trained jointly with the encoder and decoder.
        key: PRNG key for the initial weights.
    """

    encoder: eqx.Module  # (n, H, W) -> (n, 2 latent)
    decoder: eqx.Module  # (n, latent) -> (n, P D) dense or (n, P, H, W) conv
    prior: eqx.Module | None  # None: N(0, I); else a FlowPrior with log_prob, sample and kl
    image_shape: tuple[int, int] = eqx.field(static=True)
    latent_dim: int = eqx.field(static=True)
    architecture: str = eqx.field(static=True)
    observation: str = eqx.field(static=True)
    variance: str = eqx.field(static=True)
    sigma: float = eqx.field(static=True)
    levels: int = eqx.field(static=True)

    def __init__(self, *, image_shape: Sequence[int], latent_dim: int = 16, architecture: str = "dense",
                 hidden: Sequence[int] = (512, 256), channels: Sequence[int] = (32, 64),
                 observation: str = "logistic", variance: str = "learned", sigma: float = 0.1,
                 levels: int = 256, activation: str = "relu", prior=None, key, dtype=jnp.float32):
        image_shape = tuple(int(s) for s in image_shape)
        if len(image_shape) != 2 or min(image_shape) < 1:
            raise ValueError(f"image_shape={image_shape}: expected (H, W) with H, W >= 1")
        if latent_dim < 1:
            raise ValueError(f"latent_dim={latent_dim}: must be >= 1")
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture={architecture!r}; choose one of {list(ARCHITECTURES)}")
        if observation not in _PARAMS:
            raise ValueError(f"observation={observation!r}; choose one of {list(_PARAMS)}")
        if variance not in VARIANCES:
            raise ValueError(f"variance={variance!r}; choose one of {list(VARIANCES)}")
        if not sigma > 0:
            raise ValueError(f"sigma={sigma}: the fixed decoder standard deviation must be > 0")
        if levels < 2:
            raise ValueError(f"levels={levels}: images need at least 2 pixel values")
        if prior is not None and getattr(prior, "latent_dim", None) != latent_dim:
            raise ValueError(f"the prior is over {getattr(prior, 'latent_dim', None)} latent units, the VAE has "
                             f"latent_dim={latent_dim}; build the prior with the same latent_dim")
        self.prior = prior
        n_par = _PARAMS[observation] - (observation == "gaussian" and variance == "fixed")
        dims = image_shape[0] * image_shape[1]
        ke, kd = jax.random.split(key)
        if architecture == "dense":
            hidden = tuple(hidden)
            self.encoder = MLP(in_size=dims, out_size=2 * latent_dim, hidden=hidden, activation=activation,
                               key=ke, dtype=dtype)
            self.decoder = MLP(in_size=latent_dim, out_size=n_par * dims, hidden=hidden[::-1],
                               activation=activation, key=kd, dtype=dtype)
        else:
            channels = tuple(channels)
            self.encoder = ConvEncoder(image_shape, 2 * latent_dim, channels, activation=activation,
                                       key=ke, dtype=dtype)
            self.decoder = ConvDecoder((n_par, *image_shape), latent_dim, channels[::-1],
                                       activation=activation, key=kd, dtype=dtype)
        self.image_shape, self.latent_dim = image_shape, int(latent_dim)
        self.architecture, self.observation, self.variance = architecture, observation, variance
        self.sigma, self.levels = float(sigma), int(levels)

    @property
    def dims(self) -> int:
        return self.image_shape[0] * self.image_shape[1]

    def loss_terms(self, batch, key):
        return loss_terms(self, batch, key)

    def log_weights(self, x, key, n: int, *, data_key):
        return log_weights(self, x, key, n, data_key=data_key)


# --------------------------------------------------------------------------------------------- pieces


def encode(model: VAE, x):
    """Posterior parameters ``(mean, log_var)``, each (n, latent), for intensities ``x`` (n, H, W)."""
    x = jnp.asarray(x)
    h = model.encoder(x.reshape(x.shape[0], -1)) if model.architecture == "dense" else model.encoder(x)
    return h[:, :model.latent_dim], h[:, model.latent_dim:]


def reparameterize(mean, log_var, key):
    """``z = mean + exp(log_var / 2) * eps``, ``eps ~ N(0, I)``: a draw from q that is differentiable in
    the posterior parameters (Kingma & Welling 2014, Sec. 2.4). Leading axes of ``eps`` follow ``mean``."""
    eps = jax.random.normal(key, jnp.shape(mean), jnp.result_type(mean))
    return mean + jnp.exp(0.5 * log_var) * eps


def decoder_params(model: VAE, z) -> dict[str, jax.Array]:
    """The observation model's parameters at ``z`` (n, latent), each (n, D) on the intensity scale."""
    n = z.shape[0]
    out = model.decoder(z, raw=True).reshape(n, -1, model.dims)  # (n, P, D)
    if model.observation == "bernoulli":
        return {"logits": out[:, 0]}
    if model.observation == "logistic":
        return {"loc": out[:, 0], "log_scale": _soft_floor(out[:, 1], _MIN_LOG_SCALE)}
    if model.variance == "fixed":
        return {"mean": out[:, 0], "log_var": jnp.full_like(out[:, 0], 2.0 * math.log(model.sigma))}
    return {"mean": out[:, 0], "log_var": _soft_floor(out[:, 1], _MIN_LOG_VAR)}


def _mean_image(model: VAE, params) -> jax.Array:
    if model.observation == "bernoulli":
        m = jax.nn.sigmoid(params["logits"])
    elif model.observation == "logistic":
        m = jnp.clip(params["loc"], 0.0, 1.0)
    else:
        # The Gaussian models y = (pixel + u) / L; shift back to the intensity scale pixel / (L - 1).
        m = jnp.clip((params["mean"] * model.levels - 0.5) / (model.levels - 1), 0.0, 1.0)
    return m.reshape(-1, *model.image_shape)


def log_likelihood(model: VAE, params, x, key):
    """``log p(x|z)`` per image (n,), in nats of the discrete pixels (see the module docstring);
    ``key`` draws the dequantisation noise of the Gaussian model (unused otherwise)."""
    flat = jnp.asarray(x).reshape(x.shape[0], -1)
    if model.observation == "bernoulli":
        return L.bernoulli_log_prob(params["logits"], flat)
    pixels = L.to_levels(flat, model.levels)
    if model.observation == "logistic":
        return L.discretized_logistic_log_prob(params["loc"], params["log_scale"], pixels, model.levels)
    u = jax.random.uniform(key, pixels.shape, pixels.dtype)
    return L.dequantized_gaussian_log_prob(params["mean"], params["log_var"], pixels, u, model.levels)


def loss_terms(model: VAE, batch, key) -> dict[str, jax.Array]:
    """``reconstruction`` and ``kl`` in nats per image (batch means of per-image sums); ``batch["x"]`` is
    (n, H, W). ``key=None`` (validation) uses a fixed key, so the estimate is repeatable."""
    x = batch["x"]
    key = jax.random.PRNGKey(0) if key is None else key
    kz, ku = jax.random.split(key)
    mean, log_var = encode(model, x)
    z = reparameterize(mean, log_var, kz)
    rec = -log_likelihood(model, decoder_params(model, z), x, ku)
    kl = L.standard_normal_kl(mean, log_var) if model.prior is None else model.prior.kl(mean, log_var, z)
    return {"reconstruction": jnp.mean(rec), "kl": jnp.mean(kl)}


def prior_log_prob(model: VAE, z):
    """``log p(z)`` under the model's prior, for ``z`` (..., latent) -> (...)."""
    if model.prior is None:
        zero = jnp.zeros_like(z)
        return L.gaussian_log_density(z, zero, zero)
    return model.prior.log_prob(z)


def draw_prior(model: VAE, n: int, key):
    """``n`` latent codes (n, latent) from the model's prior."""
    if model.prior is None:
        return jax.random.normal(key, (n, model.latent_dim))
    return model.prior.sample(n, key)


def log_weights(model: VAE, x, key, n: int, *, data_key):
    """``log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x)`` for ``n`` draws ``z_i ~ q(z|x)``: (n, batch).

    ``data_key`` draws the Gaussian model's dequantisation noise once per image (shared by the draws)."""
    if model.observation == "bernoulli" and model.levels != 2:
        raise ValueError(
            f"observation='bernoulli' on {model.levels}-level pixels is not a likelihood of the data, so it has "
            "no ELBO or bits/dim; use observation='logistic' (discrete) or 'gaussian' (dequantised)")
    x = jnp.asarray(x)
    b = x.shape[0]
    mean, log_var = encode(model, x)
    z = reparameterize(jnp.broadcast_to(mean, (n, *mean.shape)), log_var, key)  # (n, b, latent)
    zf = z.reshape(n * b, -1)
    params = decoder_params(model, zf)
    if model.observation == "gaussian":
        pixels = L.to_levels(x.reshape(b, -1), model.levels)
        u = jax.random.uniform(data_key, pixels.shape, mean.dtype)
        ll = L.dequantized_gaussian_log_prob(params["mean"], params["log_var"], jnp.tile(pixels, (n, 1)),
                                             jnp.tile(u, (n, 1)), model.levels)
    else:
        xs = jnp.broadcast_to(x, (n, *x.shape)).reshape(n * b, *x.shape[1:])
        ll = log_likelihood(model, params, xs, None)
    log_prior = prior_log_prob(model, z)  # (n, b)
    log_q = L.gaussian_log_density(z, mean, log_var)  # (n, b)
    return ll.reshape(n, b) + log_prior - log_q


# ------------------------------------------------------------------------------------------ public API


def decode(model: VAE, z):
    """Mean images (n, H, W) in [0, 1] at latent codes ``z`` (n, latent): Bernoulli ``sigmoid(logits)``,
    the logistic's location (clipped), or the Gaussian mean mapped back to the intensity scale."""
    return _mean_image(model, decoder_params(model, jnp.asarray(z)))


def sample(model: VAE, n: int, key, *, pixel_noise: bool = False):
    """``n`` images (n, H, W) in [0, 1] from ``z ~ p(z)`` (the model's prior).

    By default the decoder's mean image is returned (what VAE papers show: smooth, often blurry); with
    ``pixel_noise=True`` pixels are drawn from ``p(x|z)`` and rounded to the ``levels`` grid (grainy: the
    model's independent per-pixel noise made visible).
    """
    kz, kx = jax.random.split(key)
    z = draw_prior(model, n, kz)
    params = decoder_params(model, z)
    if not pixel_noise:
        return _mean_image(model, params)
    q = model.levels - 1
    if model.observation == "bernoulli":
        x = jax.random.bernoulli(kx, jax.nn.sigmoid(params["logits"])).astype(z.dtype)
        x = jnp.round(x * q) / q
    elif model.observation == "logistic":
        u = jax.random.uniform(kx, params["loc"].shape, minval=1e-6, maxval=1 - 1e-6)
        x = params["loc"] + jnp.exp(params["log_scale"]) * (jnp.log(u) - jnp.log1p(-u))
        x = jnp.clip(jnp.round(x * q), 0, q) / q
    else:
        y = params["mean"] + jnp.exp(0.5 * params["log_var"]) * jax.random.normal(kx, params["mean"].shape)
        x = jnp.clip(jnp.floor(y * model.levels), 0, q) / q
    return x.reshape(n, *model.image_shape)


def reconstruct(model: VAE, x, key=None):
    """Mean images of ``p(x|z)`` at the posterior mean (``key=None``) or at a draw from ``q(z|x)``."""
    mean, log_var = encode(model, x)
    z = mean if key is None else reparameterize(mean, log_var, key)
    return decode(model, z)


def interpolate(model: VAE, x_a, x_b, steps: int = 8):
    """Decoded images (steps, H, W) along the straight line between the posterior means of ``x_a`` and
    ``x_b`` (each (H, W))."""
    if steps < 2:
        raise ValueError(f"steps={steps}: need at least 2 (the two end points)")
    mean, _ = encode(model, jnp.stack([jnp.asarray(x_a), jnp.asarray(x_b)]))
    t = jnp.linspace(0.0, 1.0, steps)[:, None]
    return decode(model, (1 - t) * mean[0] + t * mean[1])


def log_prob(model: VAE, x, key, *, k: int = 100, bound: str = "iwae", batch_size: int = 100) -> np.ndarray:
    """A lower bound on ``log P(pixels)`` per image (n,) in nats: ``bound="iwae"`` (importance-sampled with
    ``k`` draws, Burda et al. 2016) or ``"elbo"``. The VAE's exact likelihood is intractable."""
    if bound not in ("iwae", "elbo"):
        raise ValueError(f"bound={bound!r}; choose 'iwae' or 'elbo'")
    b = L.likelihood_bounds(model, x, key, k=k, batch_size=batch_size)
    return -(b.neg_iwae if bound == "iwae" else b.neg_elbo)
