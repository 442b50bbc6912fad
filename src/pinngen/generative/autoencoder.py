"""Autoencoders for images: dense and convolutional, three output/loss pairs, optional denoising.

An autoencoder maps an image ``x`` to a code ``z = encode(x)`` of ``latent`` numbers and back,
``x_hat = decode(z)``, and is trained to make ``x_hat`` close to ``x`` (Hinton & Salakhutdinov 2006). The
three output/loss pairs are the lecture's experiment (pixels scaled to [0, 1]):

* ``linear_mse``:  linear output, mean squared error;
* ``sigmoid_mse``: sigmoid output (predictions stay in [0, 1]), mean squared error;
* ``sigmoid_bce``: sigmoid output, binary cross-entropy per pixel, computed from the logits
  (``softplus(z) - x z``), exact for any logit.

Denoising (Vincent et al. 2008): with ``noise="gaussian"`` the input is ``x + sigma * eps`` (clipped to
[0, 1]), with ``noise="masking"`` each pixel is zeroed with probability ``noise_level``; the target is the
clean image. Noise is drawn from the training step's key only, so validation and ``reconstruct`` see the
clean input.

Shapes: images are ``(n, H, W)`` or ``(n, C, H, W)`` (``image_shape`` without the batch axis); codes are
``(n, latent)``. The one loss term is called ``"reconstruction"``.
"""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from pinngen.core.batched import batched_apply
from pinngen.core.losses import output_loss
from pinngen.core.nn import MLP, ConvDecoder, ConvEncoder, count_params

__all__ = ["ARCHITECTURES", "NOISES", "OUTPUTS", "Autoencoder", "AnomalyDetector", "anomaly_detector",
           "autoencoder", "conv_autoencoder", "decode_batched", "dense_autoencoder",
           "encode_batched", "per_class_error", "reconstruct_batched",
           "reconstruction_error", "reconstruction_errors"]

# output/loss variant -> (output activation, loss name in pinngen.core.losses)
OUTPUTS: dict[str, tuple[str, str]] = {
    "linear_mse": ("linear", "mse"),
    "sigmoid_mse": ("sigmoid", "mse"),
    "sigmoid_bce": ("sigmoid", "binary_crossentropy"),
}
NOISES = ("none", "gaussian", "masking")
ARCHITECTURES = ("dense", "conv")
METRICS = ("mse", "bce")
_BCE_EPS = 1e-7  # predictions clipped to [eps, 1 - eps] before the log, as Keras does


def _choice(name: str, value: str, allowed) -> str:
    if value not in allowed:
        raise ValueError(f"{name}={value!r}; choose one of {', '.join(allowed)}")
    return value


class Autoencoder(eqx.Module):
    """``encoder``: images -> codes ``(n, latent)``; ``decoder``: codes -> images (raw, pre-activation).

    Build it with :func:`dense_autoencoder`, :func:`conv_autoencoder` or :func:`autoencoder`.
    """

    encoder: eqx.Module
    decoder: eqx.Module
    image_shape: tuple[int, ...] = eqx.field(static=True)
    output: str = eqx.field(static=True)
    noise: str = eqx.field(static=True)
    noise_level: float = eqx.field(static=True)
    flatten: bool = eqx.field(static=True)  # dense nets work on flattened pixels

    @property
    def latent(self) -> int:
        return self.encoder.out_size

    @property
    def output_activation(self) -> str:
        return OUTPUTS[self.output][0]

    @property
    def loss(self) -> str:
        return OUTPUTS[self.output][1]

    def _images(self, x):
        x = jnp.asarray(x)
        if x.shape[1:] != self.image_shape:
            if self.flatten and x.ndim == 2 and x.shape[1] == int(np.prod(self.image_shape)):
                return x.reshape(x.shape[0], *self.image_shape)
            raise ValueError(f"images have shape {x.shape}; this autoencoder takes "
                             f"(n, {', '.join(map(str, self.image_shape))})")
        return x

    def encode(self, x):
        """Codes ``(n, latent)`` of images ``(n, *image_shape)``."""
        x = self._images(x)
        return self.encoder(x.reshape(x.shape[0], -1) if self.flatten else x)

    def decode_raw(self, z):
        """Decoder output before the output activation (logits for sigmoid), ``(n, *image_shape)``."""
        z = jnp.asarray(z)
        out = self.decoder(z, raw=True)
        return out.reshape(z.shape[0], *self.image_shape)

    def decode(self, z):
        """Images ``(n, *image_shape)`` from codes ``(n, latent)``."""
        return jax.nn.sigmoid(self.decode_raw(z)) if self.output_activation == "sigmoid" else self.decode_raw(z)

    def reconstruct(self, x):
        """``decode(encode(x))`` for images ``(n, *image_shape)``; no noise."""
        return self.decode(self.encode(x))

    def __call__(self, x):
        return self.reconstruct(x)

    def corrupt(self, x, key):
        """The denoising input: ``x`` with this model's noise drawn from ``key`` (``x`` if noise is none)."""
        if self.noise == "gaussian":
            return jnp.clip(x + self.noise_level * jax.random.normal(key, x.shape, x.dtype), 0.0, 1.0)
        if self.noise == "masking":
            return jnp.where(jax.random.bernoulli(key, self.noise_level, x.shape), 0.0, x)
        return x

    def loss_terms(self, batch, key):
        """``{"reconstruction": loss}`` on ``batch["x"]`` ``(n, *image_shape)``; noisy input when ``key``."""
        x = self._images(batch["x"])
        inp = self.corrupt(x, key) if (key is not None and self.noise != "none") else x
        raw = self.decode_raw(self.encode(inp))
        fn = output_loss(self.output_activation, self.loss)
        return {"reconstruction": fn(raw.reshape(x.shape[0], -1), x.reshape(x.shape[0], -1))}

    def n_params(self) -> int:
        return count_params(self)


def dense_autoencoder(*, image_shape: Sequence[int], latent: int = 64, hidden: Sequence[int] = (128,),
                      activation: str = "relu", output: str = "sigmoid_bce", noise: str = "none",
                      noise_level: float = 0.0, init: str = "glorot_uniform", key,
                      dtype=jnp.float32) -> Autoencoder:
    """Dense autoencoder ``D - hidden... - latent - reversed(hidden)... - D`` with ``D = prod(image_shape)``.

    The default on 28x28 images, 784-128-64-128-784, has 218,192 parameters (784-128-16-128-784: 205,856),
    the size of the lecture's Keras model. The code layer is linear.
    """
    _checks(latent, output, noise, noise_level)
    d = int(np.prod(image_shape))
    ke, kd = jax.random.split(key)
    hidden = [int(h) for h in hidden]
    enc = MLP(in_size=d, out_size=latent, hidden=hidden, activation=activation, init=init, key=ke, dtype=dtype)
    dec = MLP(in_size=latent, out_size=d, hidden=hidden[::-1], activation=activation, init=init,
              output_activation=OUTPUTS[output][0], key=kd, dtype=dtype)
    return Autoencoder(enc, dec, tuple(int(s) for s in image_shape), output, noise, float(noise_level), True)


def conv_autoencoder(*, image_shape: Sequence[int], latent: int = 64, channels: Sequence[int] = (16, 32),
                     activation: str = "relu", output: str = "sigmoid_bce", noise: str = "none",
                     noise_level: float = 0.0, key, dtype=jnp.float32) -> Autoencoder:
    """Convolutional autoencoder: :class:`ConvEncoder` (stride-2 stages ``channels``) to ``latent``, and the
    mirrored :class:`ConvDecoder` (upsample + conv stages ``reversed(channels)``)."""
    _checks(latent, output, noise, noise_level)
    ke, kd = jax.random.split(key)
    channels = [int(c) for c in channels]
    enc = ConvEncoder(image_shape, latent, channels, activation=activation, key=ke, dtype=dtype)
    dec = ConvDecoder(image_shape, latent, channels[::-1], activation=activation,
                      output_activation=OUTPUTS[output][0], key=kd, dtype=dtype)
    return Autoencoder(enc, dec, tuple(int(s) for s in image_shape), output, noise, float(noise_level), False)


def autoencoder(*, architecture: str = "dense", **kwargs) -> Autoencoder:
    """:func:`dense_autoencoder` or :func:`conv_autoencoder` by name (``architecture="dense" | "conv"``)."""
    _choice("architecture", architecture, ARCHITECTURES)
    return (dense_autoencoder if architecture == "dense" else conv_autoencoder)(**kwargs)


def _checks(latent, output, noise, noise_level):
    if int(latent) < 1:
        raise ValueError(f"latent={latent}: the bottleneck needs at least one unit")
    _choice("output", output, tuple(OUTPUTS))
    _choice("noise", noise, NOISES)
    if noise == "masking" and not 0.0 <= noise_level < 1.0:
        raise ValueError(f"noise_level={noise_level}: masking needs a probability in [0, 1)")
    if noise_level < 0.0:
        raise ValueError(f"noise_level={noise_level}: must be >= 0")


# --------------------------------------------------------------------------- errors and anomaly scores


def _pixel_error(x_hat, x, metric: str):
    """Per-sample mean over pixels: ``(n, ...) -> (n,)``."""
    x_hat, x = x_hat.reshape(x.shape[0], -1), x.reshape(x.shape[0], -1)
    if metric == "mse":
        return jnp.mean(jnp.square(x_hat - x), axis=1)
    p = jnp.clip(x_hat, _BCE_EPS, 1.0 - _BCE_EPS)
    return -jnp.mean(x * jnp.log(p) + (1.0 - x) * jnp.log1p(-p), axis=1)


def _errors(model, x):
    x_hat = model.reconstruct(x)
    return jnp.stack([_pixel_error(x_hat, x, m) for m in METRICS], axis=1)  # (n, len(METRICS))


def _encode(model, x):
    return model.encode(x)


def _decode(model, z):
    return model.decode(z)


def _reconstruct(model, x):
    return model.reconstruct(x)


def encode_batched(model, x, *, batch_size: int = 1000) -> np.ndarray:
    """``model.encode`` over many images ``(n, ...)``, jitted, in padded slices: codes ``(n, latent)``."""
    return batched_apply(_encode, np.asarray(x, np.float32), args=(model,), batch_size=batch_size)


def decode_batched(model, z, *, batch_size: int = 1000) -> np.ndarray:
    """``model.decode`` over many codes ``(n, latent)``, jitted, in padded slices: images ``(n, ...)``."""
    return batched_apply(_decode, np.asarray(z, np.float32), args=(model,), batch_size=batch_size)


def reconstruct_batched(model, x, *, batch_size: int = 1000) -> np.ndarray:
    """``model.reconstruct`` over many images, jitted, in padded slices."""
    return batched_apply(_reconstruct, np.asarray(x, np.float32), args=(model,), batch_size=batch_size)


def reconstruction_error(model, x, *, metric: str = "mse", batch_size: int = 1000) -> np.ndarray:
    """Per-sample reconstruction error ``(n,)`` of any model with ``reconstruct``, averaged over pixels.

    ``metric="mse"``: mean squared error; ``"bce"``: binary cross-entropy with predictions clipped to
    ``[1e-7, 1 - 1e-7]`` (so linear outputs outside [0, 1] stay finite).
    """
    _choice("metric", metric, METRICS)
    return reconstruction_errors(model, x, batch_size=batch_size)[metric]


def reconstruction_errors(model, x, *, batch_size: int = 1000) -> dict[str, np.ndarray]:
    """Every metric of :func:`reconstruction_error` from one pass: ``{"mse": (n,), "bce": (n,)}``."""
    x = np.asarray(x, np.float32)
    both = batched_apply(_errors, x, args=(model,), batch_size=batch_size)  # (n, 2)
    return {m: both[:, i] for i, m in enumerate(METRICS)}


def per_class_error(model, x, y, *, classes: Sequence[str] | None = None, metric: str = "mse",
                    errors: np.ndarray | None = None) -> dict[str, float]:
    """Mean reconstruction error per class label ``y`` ``(n,)``: ``{class name: error}`` (present classes)."""
    err = reconstruction_error(model, x, metric=metric) if errors is None else np.asarray(errors)
    y = np.asarray(y).astype(int)
    out = {}
    for c in np.unique(y):
        name = classes[c] if classes is not None and c < len(classes) else str(c)
        out[name] = float(np.mean(err[y == c]))
    return out


class AnomalyDetector(eqx.Module):
    """Anomaly score = per-sample reconstruction error; anomalous when above ``threshold``.

    The threshold is the ``quantile`` of the scores on validation data assumed normal, so about
    ``1 - quantile`` of normal data is flagged (the false-alarm rate chosen up front).
    """

    model: eqx.Module
    threshold: float = eqx.field(static=True)
    quantile: float = eqx.field(static=True)
    metric: str = eqx.field(static=True)

    def scores(self, x) -> np.ndarray:
        """``(n,)`` reconstruction errors."""
        return reconstruction_error(self.model, x, metric=self.metric)

    def __call__(self, x) -> np.ndarray:
        """``(n,)`` bools: True where the score exceeds the threshold."""
        return self.scores(x) > self.threshold


def anomaly_detector(model, x_val, *, quantile: float = 0.99, metric: str = "mse") -> AnomalyDetector:
    """An :class:`AnomalyDetector` whose threshold is the ``quantile`` of ``model``'s errors on ``x_val``."""
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile={quantile}: must be in (0, 1)")
    if len(x_val) == 0:
        raise ValueError("x_val is empty: the threshold needs validation images")
    scores = reconstruction_error(model, x_val, metric=metric)
    return AnomalyDetector(model, float(np.quantile(scores, quantile)), float(quantile), metric)
