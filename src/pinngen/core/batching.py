"""Batch samplers: which samples each training step sees, as a pure function of (seed, phase, step).

The loop asks a sampler, once per chunk, for the host-side inputs of ``count`` steps (``host_inputs``:
indices, window starts), and each step turns its slice into a batch inside the jitted chunk (``gather``).
Because the draw depends only on (seed, phase, step), a resumed run sees the same batches as an
uninterrupted one, and the compiled chunk never changes shape.

- :class:`Permutation`: whole samples, a fresh seeded permutation per epoch (the last partial batch of an
  epoch is dropped to keep shapes static).
- :class:`Windows`: random windows of ``length`` over one long sequence, with targets shifted by one (a
  character language model, a long time series): ``{field: seq[s:s+L], target: seq[s+1:s+L+1]}``.
- :class:`Padded`: variable-length sequences stored padded to one length with their ``lengths``; each batch
  gets a boolean ``mask`` (batch, time), True on real steps.

``stream=True`` keeps the data on the host and sends each chunk's batches to the device (data larger than
device memory); ``"auto"`` streams when the data exceeds ``max_device_mb``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class BatchingSpec(BaseModel):
    """How minibatches are drawn (phases with ``batch_size``); full-batch phases use the data as it is."""

    model_config = ConfigDict(extra="forbid")
    sampler: Literal["permutation", "windows", "padded"] = "permutation"
    length: int | None = Field(None, ge=1, description="windows: steps per window")
    field: str = Field("x", description="windows: the data field holding the long sequence")
    target: str = Field("y", description="windows: name of the shifted-by-one targets in each batch")
    lengths: str = Field("length", description="padded: the data field holding each sequence's length")
    stream: bool | Literal["auto"] = Field("auto", description="keep data on the host and send each chunk's "
                                           "batches (True), keep it on the device (False), or decide by size")
    max_device_mb: float = Field(2048.0, gt=0, description="auto: stream data larger than this")


def data_size(data) -> int:
    leaves = jax.tree_util.tree_leaves(data)
    if not leaves:
        raise ValueError("minibatches need data: pass a dict of arrays with the same first dimension")
    n = leaves[0].shape[0]
    for leaf in leaves:
        if leaf.shape[0] != n:
            raise ValueError(f"data arrays disagree on the number of samples: {leaf.shape[0]} vs {n}")
    return n


def _rng(seed: int, phase: int, *more: int) -> np.random.Generator:
    return np.random.default_rng([seed, phase, *more])


class Permutation:
    """Seeded epoch permutations of whole samples; ``batches`` minibatches per step."""

    def __init__(self, *, batch_size: int, batches: int = 1):
        self.batch_size, self.batches = batch_size, batches

    def check(self, data) -> int:
        n = data_size(data)
        self.batch_size = min(self.batch_size, n)
        return n

    def steps_per_epoch(self, n: int) -> int:
        return max(n // (self.batch_size * self.batches), 1)

    def host_inputs(self, n: int, seed: int, phase: int, start: int, count: int) -> np.ndarray:
        """Indices ``(count, batch)`` (or ``(count, batches, batch)``) for steps start..start+count."""
        per = self.batch_size * self.batches
        per_epoch = self.steps_per_epoch(n)
        out = np.empty((count, per), dtype=np.int32)
        cache = {}
        for j in range(count):
            epoch, pos = divmod(start + j, per_epoch)
            if epoch not in cache:
                cache[epoch] = _rng(seed, phase, epoch).permutation(n)
            out[j] = cache[epoch][pos * per : (pos + 1) * per]
        return out if self.batches == 1 else out.reshape(count, self.batches, self.batch_size)

    def gather(self, data, idx):
        return jax.tree_util.tree_map(lambda a: a[idx], data)

    def host_gather(self, data, idx):
        return jax.tree_util.tree_map(lambda a: np.asarray(a)[idx], data)


class Windows:
    """Random windows over one long sequence ``data[field]`` of shape ``(N, ...)``."""

    def __init__(self, *, batch_size: int, length: int, field: str = "x", target: str = "y", batches: int = 1):
        self.batch_size, self.length, self.field, self.target, self.batches = batch_size, length, field, target, batches

    def check(self, data) -> int:
        if not isinstance(data, dict) or self.field not in data:
            raise ValueError(f"the windows sampler needs data[{self.field!r}], a long sequence (N, ...); got "
                             f"{sorted(data) if isinstance(data, dict) else type(data).__name__}")
        n = data[self.field].shape[0]
        if n < self.length + 2:
            raise ValueError(f"sequence of length {n} is too short for windows of length {self.length} "
                             "(need length + 2)")
        return n

    def steps_per_epoch(self, n: int) -> int:
        return max(n // (self.batch_size * self.batches * self.length), 1)

    def host_inputs(self, n: int, seed: int, phase: int, start: int, count: int) -> np.ndarray:
        """Window starts ``(count, batch)`` (or ``(count, batches, batch)``), uniform on [0, N - L - 1]."""
        per = self.batch_size * self.batches
        out = np.stack([_rng(seed, phase, 1, start + j).integers(0, n - self.length, per) for j in range(count)])
        out = out.astype(np.int32)
        return out if self.batches == 1 else out.reshape(count, self.batches, self.batch_size)

    def gather(self, data, starts):
        seq, flat = data[self.field], starts.reshape(-1)

        def windows(shift):
            w = jax.vmap(lambda s: jax.lax.dynamic_slice_in_dim(seq, s + shift, self.length, axis=0))(flat)
            return w.reshape(*starts.shape, *w.shape[1:])

        return {self.field: windows(0), self.target: windows(1)}

    def host_gather(self, data, starts):
        seq = np.asarray(data[self.field])
        offs = np.arange(self.length)
        return {self.field: seq[starts[..., None] + offs], self.target: seq[starts[..., None] + offs + 1]}


class Padded(Permutation):
    """Whole padded sequences ``(N, T, ...)`` with ``data[lengths]`` (N,); batches get ``mask`` (B, T)."""

    def __init__(self, *, batch_size: int, lengths: str = "length", batches: int = 1):
        super().__init__(batch_size=batch_size, batches=batches)
        self.lengths = lengths

    def check(self, data) -> int:
        if not isinstance(data, dict) or self.lengths not in data:
            raise ValueError(f"the padded sampler needs data[{self.lengths!r}] with each sequence's length; use "
                             "pinngen.core.batching.pad_sequences to build it")
        return super().check(data)

    def _with_mask(self, batch, xp):
        lengths = batch[self.lengths]  # (B,) or (batches, B)
        t = max(a.shape[lengths.ndim] for k, a in batch.items() if k != self.lengths and a.ndim > lengths.ndim)
        return {**batch, "mask": xp.arange(t) < lengths[..., None]}

    def gather(self, data, idx):
        return self._with_mask(super().gather(data, idx), jnp)

    def host_gather(self, data, idx):
        return self._with_mask(super().host_gather(data, idx), np)


def pad_sequences(seqs: Sequence[np.ndarray], *, max_len: int | None = None, value: float = 0.0):
    """``(padded (N, T, ...), lengths (N,))`` from sequences of different lengths (longer ones cut)."""
    if not len(seqs):
        raise ValueError("pad_sequences needs at least one sequence")
    arrs = [np.asarray(s) for s in seqs]
    t = max_len or max(len(a) for a in arrs)
    tail = arrs[0].shape[1:]
    if any(a.shape[1:] != tail for a in arrs):
        raise ValueError(f"sequences disagree on their feature shape: {sorted({a.shape[1:] for a in arrs})}")
    out = np.full((len(arrs), t, *tail), value, dtype=np.result_type(*arrs))
    lengths = np.empty(len(arrs), dtype=np.int32)
    for i, a in enumerate(arrs):
        lengths[i] = min(len(a), t)
        out[i, : lengths[i]] = a[: lengths[i]]
    return out, lengths


def make_sampler(spec: BatchingSpec, *, batch_size: int, batches: int = 1):
    if spec.sampler == "windows":
        if spec.length is None:
            raise ValueError("batching.length is required for the windows sampler (steps per window)")
        return Windows(batch_size=batch_size, length=spec.length, field=spec.field, target=spec.target,
                       batches=batches)
    if spec.sampler == "padded":
        return Padded(batch_size=batch_size, lengths=spec.lengths, batches=batches)
    return Permutation(batch_size=batch_size, batches=batches)


def nbytes(data) -> int:
    return sum(int(np.asarray(a).nbytes) if not hasattr(a, "nbytes") else int(a.nbytes)
               for a in jax.tree_util.tree_leaves(data))


def should_stream(spec: BatchingSpec, data) -> bool:
    if spec.stream == "auto":
        return nbytes(data) > spec.max_device_mb * 2**20
    return bool(spec.stream)
