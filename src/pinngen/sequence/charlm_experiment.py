"""The ``charlm`` kind (built-in experiment ``charlm-hamlet``): a character-level language model.

Data: ``data.source: hamlet`` (vendored) or the path of a UTF-8 text file; the first ``1 - data.val`` of it
trains, the rest validates (:func:`pinngen.sequence.data.split_text`). The vocabulary is the set of characters
of the training part; a validation character that never occurs in training is a one-line
:class:`~pinngen.data.DataError` naming it (no ``<unk>`` id: a model cannot learn the probability of a
character it has never seen, and neither can the n-gram baseline). Training draws random windows of
``data.block`` characters with targets shifted by one (the seeded ``windows`` batch sampler; ``train.batching``
is set from ``data.block``).

Models (``model.arch``): ``lstm``, ``gru``, ``rnn`` behind an embedding, or a causal ``transformer``
(:class:`pinngen.sequence.charlm_model.CharLM`), trained on the mean ``nll`` in nats per character.

Evaluation (:mod:`pinngen.sequence.charlm_report`): ``nats_per_char`` / ``bits_per_char`` over the whole
validation text, each character predicted from ``block - stride + 1`` to ``block`` characters before it
(windows of ``data.block`` sliding by ``evaluation.stride``; the first windows read the end of the training
text), beside a Witten-Bell n-gram fitted in the same run; recurrent runs also report the score with the state
carried through the validation text (unbounded context). Report: generated text at a few temperatures, the loss
by position in the window, attention maps for Transformers.

``generate(model, spec, prompt, n_chars, temperature=, top_k=, key=)``: the prompt followed by ``n_chars`` drawn
characters (``pinngen sample RUN --prompt TEXT -n CHARS``). ``predict(x)``: next-character probabilities
``(n, T, V)`` for ids ``(n, T)`` or strings of equal length ``(n,)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from pinngen.config import RunConfig
from pinngen.core import dtypes
from pinngen.core.diagnose import DiagnoseContext
from pinngen.core.kind import Kind
from pinngen.core.setup import Setup
from pinngen.data import DataError

from .charlm_model import CharLM, nll_terms
from .charlm_model import generate as generate_ids
from .data import hamlet, split_text


class DataCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = Field("hamlet", description="'hamlet' (vendored) or the path of a UTF-8 text file")
    val: float = Field(0.1, gt=0.0, lt=1.0, description="the last fraction of the text, held out for validation")
    block: int = Field(128, ge=2, description="characters per training window (the Transformer's longest context)")
    max_chars: int | None = Field(None, ge=4, description="use only the text's first max_chars characters (quick "
                                  "trials)")


class ModelCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    arch: Literal["lstm", "gru", "rnn", "transformer"] = "lstm"
    hidden: int = Field(512, ge=1, description="units per recurrent layer, or the Transformer's width")
    layers: int = Field(1, ge=1, description="recurrent layers or Transformer blocks")
    embed: int = Field(64, ge=1, description="recurrent: width of the character embedding")
    heads: int = Field(4, ge=1, description="transformer: attention heads (hidden must divide by it)")
    positions: Literal["learned", "sinusoidal", "rotary"] = "learned"
    dropout: float = Field(0.2, ge=0.0, lt=1.0, description="dropout rate while training")


class EvaluationCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stride: int | None = Field(None, ge=1, description="scoring windows slide by this (default block // 2): each "
                               "character is predicted from block - stride + 1 to block characters")
    ngram_order: int = Field(5, ge=1, description="order of the Witten-Bell n-gram baseline")
    carried_warmup: int = Field(1000, ge=0, description="recurrent: training characters read before the "
                                "validation text when the state is carried through it")
    prompt: str | None = Field(None, description="prompt of the report's samples (default: the validation "
                               "text's first line)")
    sample_chars: int = Field(400, ge=1, description="characters generated per temperature for the report")
    temperatures: list[float] = Field(default_factory=lambda: [0.5, 0.8, 1.0], min_length=1)
    top_k: int | None = Field(None, ge=1, description="report samples: keep the k most likely characters")
    attention_chars: int = Field(64, ge=2, description="transformer: validation characters the attention maps show")

    @model_validator(mode="after")
    def _positive(self):
        if any(t <= 0 for t in self.temperatures):
            raise ValueError(f"temperatures {self.temperatures}: each must be > 0")
        return self


class Config(RunConfig):
    kind: Literal["charlm"] = "charlm"
    data: DataCfg = Field(default_factory=DataCfg)
    model: ModelCfg = Field(default_factory=ModelCfg)
    evaluation: EvaluationCfg = Field(default_factory=EvaluationCfg)

    @model_validator(mode="after")
    def _windows(self):
        """Training draws windows of ``data.block`` characters: fill ``train.batching`` from it."""
        b = self.train.batching
        if "sampler" in b.model_fields_set and b.sampler != "windows":
            raise ValueError(f"train.batching.sampler={b.sampler!r}: a language model trains on random windows; "
                             "remove it (charlm sets 'windows')")
        if b.length is not None and b.length != self.data.block:
            raise ValueError(f"train.batching.length={b.length} differs from data.block={self.data.block}; "
                             "set data.block only")
        for i, p in enumerate(self.train.phases):
            if p.batch_size is None:
                raise ValueError(f"train.phases.{i}.batch_size is missing: give the windows per step, e.g. 32")
        if self.evaluation.stride is not None and self.evaluation.stride > self.data.block:
            raise ValueError(f"evaluation.stride={self.evaluation.stride}: must be at most data.block="
                             f"{self.data.block}")
        if self.model.arch == "transformer" and self.model.hidden % self.model.heads:
            raise ValueError(f"model.hidden={self.model.hidden} must divide by model.heads={self.model.heads}")
        batching = b.model_copy(update={"sampler": "windows", "length": self.data.block, "field": "x",
                                        "target": "y"})
        self.train = self.train.model_copy(update={"batching": batching})
        return self


def load_text(source: str) -> str:
    """The text of ``source``: ``hamlet`` or a UTF-8 file (an unreadable or empty file is a DataError)."""
    if source == "hamlet":
        return hamlet()
    path = Path(source)
    if not path.is_file():
        raise DataError(f"{source}: no such file; data.source takes 'hamlet' or the path of a UTF-8 text file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"{source}: not UTF-8 text (bad byte at offset {e.start}); save the file as UTF-8") from None
    if not text.strip():
        raise DataError(f"{source}: the file is empty; give a text of a few thousand characters or more")
    return text


def split(text: str, val: float, block: int, source: str) -> tuple[str, str, tuple[str, ...]]:
    """Training text, validation text and the vocabulary (the sorted characters of the training text)."""
    need = int(np.ceil((block + 2) / (1.0 - val))) + 1
    if len(text) < need:
        raise DataError(f"{source}: {len(text)} characters is too short for windows of data.block={block} with "
                        f"data.val={val} (need at least {need}); use a longer text or a smaller data.block")
    train, valid = split_text(text, val=val)
    vocab = tuple(sorted(set(train)))
    unseen = sorted(set(valid) - set(vocab))
    if unseen:
        raise DataError(f"{source}: the validation part (last {val:.0%}) has characters never seen in training: "
                        f"{', '.join(map(repr, unseen[:10]))}; remove them from the text or move text containing "
                        "them earlier")
    return train, valid, vocab


def encode(text: str, vocab: str | tuple[str, ...], what: str = "text") -> np.ndarray:
    """Character ids ``(len(text),)`` int32; characters outside the vocabulary are a one-line ValueError."""
    index = {c: i for i, c in enumerate(vocab)}
    bad = sorted({c for c in text if c not in index})
    if bad:
        shown = "".join(vocab) if len(vocab) <= 40 else "".join(vocab)[:40] + "..."
        raise ValueError(f"{what} has characters outside the model's vocabulary: {', '.join(map(repr, bad[:10]))}; "
                         f"use only characters of its training text ({len(vocab)} characters: {shown!r})")
    return np.fromiter((index[c] for c in text), np.int32, len(text))


def decode(ids, vocab: str) -> str:
    return "".join(vocab[int(i)] for i in ids)


def template(spec: dict, key=None):
    key = key if key is not None else jax.random.PRNGKey(0)
    return CharLM(vocab=len(spec["vocab"]), arch=spec["arch"], hidden=int(spec["hidden"]),
                  layers=int(spec["layers"]), embed=int(spec["embed"]), heads=int(spec["heads"]),
                  block=int(spec["block"]), dropout=float(spec["dropout"]), positions=spec["positions"], key=key,
                  dtype=dtypes.jnp_dtype(spec.get("dtype")))


def _val_windows(ids: np.ndarray, block: int) -> dict:
    """Non-overlapping windows of the validation ids with their shifted targets, ``(n, T)`` each."""
    t = min(block, len(ids) - 1)
    n = (len(ids) - 1) // t
    x, y = ids[:n * t].reshape(n, t), ids[1:n * t + 1].reshape(n, t)
    return {"x": jnp.asarray(x), "y": jnp.asarray(y)}


def setup(cfg: Config) -> Setup:
    text = load_text(cfg.data.source)[:cfg.data.max_chars]
    train, valid, vocab = split(text, cfg.data.val, cfg.data.block, cfg.data.source)
    m = cfg.model
    spec = {"vocab": "".join(vocab), "arch": m.arch, "hidden": m.hidden, "layers": m.layers, "embed": m.embed,
            "heads": m.heads, "block": cfg.data.block, "dropout": m.dropout, "positions": m.positions,
            "dtype": cfg.dtype}
    model = template(spec, key=jax.random.PRNGKey(cfg.seed))
    ids_train, ids_val = encode(train, vocab), encode(valid, vocab)
    if cfg.evaluation.prompt is not None:  # a bad prompt fails now, not after training
        encode(cfg.evaluation.prompt, vocab, "evaluation.prompt")
    p0 = cfg.train.phases[0]
    context = DiagnoseContext(dropout=m.dropout, optimizer=p0.optimizer, lr=p0.lr, regularised=p0.weight_decay > 0)
    return Setup(model=model, data={"x": jnp.asarray(ids_train)}, loss_terms=nll_terms, spec=spec,
                 fit_kwargs=dict(val_data=_val_windows(ids_val, cfg.data.block), context=context),
                 extras=dict(train_text=train, val_text=valid, ids_train=ids_train, ids_val=ids_val))


def evaluate(cfg: Config, setup: Setup, model, history, run_dir) -> dict:
    from .charlm_report import evaluate as report

    return report(cfg, setup, model, history, run_dir)


def predict(model, spec: dict, x) -> np.ndarray:
    """Next-character probabilities ``(n, T, V)`` for ids ``(n, T)`` (``(n,)``: one character each) or ``n``
    strings of ``T`` characters."""
    x = np.asarray(x)
    if x.dtype.kind in "US":
        x = np.atleast_1d(x)
        if len({len(str(s)) for s in x}) != 1:
            raise ValueError("give strings of equal length (or ids (n, T))")
        x = np.stack([encode(str(s), spec["vocab"], "input") for s in x])
    if x.ndim == 1:  # (n,) ids: n sequences of one character
        x = x[:, None]
    if x.ndim != 2 or x.dtype.kind not in "iuf" or x.shape[1] < 1:
        raise ValueError(f"inputs have shape {x.shape}; give character ids (n, T) or strings")
    if np.any(x != np.round(x)) or x.min() < 0 or x.max() >= len(spec["vocab"]):
        raise ValueError(f"ids must be integers in [0, {len(spec['vocab'])}) (the vocabulary's size)")
    if spec["arch"] == "transformer" and x.shape[1] > int(spec["block"]):
        raise ValueError(f"sequences of {x.shape[1]} characters; this Transformer reads at most data.block="
                         f"{spec['block']}")
    return np.asarray(_probs(model, jnp.asarray(x, jnp.int32)))


@eqx.filter_jit
def _probs(model, x):
    return jax.nn.softmax(model(x), axis=-1)


def generate(model, spec: dict, prompt: str, n_chars: int, *, temperature: float = 1.0, top_k: int | None = None,
             key=None) -> str:
    """The prompt followed by ``n_chars`` characters drawn one at a time (one compiled loop)."""
    if not prompt:
        raise ValueError("the prompt is empty; give at least one character, e.g. --prompt 'The '")
    if n_chars < 0:
        raise ValueError(f"-n {n_chars}: the number of characters to generate must be >= 0")
    ids = encode(prompt, spec["vocab"], "the prompt")
    key = key if key is not None else jax.random.PRNGKey(0)
    out = generate_ids(model, ids, int(n_chars), key, temperature=temperature, top_k=top_k)
    return prompt + decode(out[len(ids):], spec["vocab"])


def headline(metrics: dict) -> str:
    return metrics.get("summary", {}).get("headline", "")


KIND = Kind(name="charlm", Config=Config, setup=setup, evaluate=evaluate, template=template, predict=predict,
            generate=generate, headline=headline, lead_tables=("Nats per character",),
            description="character-level language model (LSTM/GRU/Transformer) with nats/char against an n-gram",
            contract_config=dict(
                data=dict(source="hamlet", block=16, max_chars=1500), model=dict(hidden=16, embed=8, dropout=0.0),
                evaluation=dict(sample_chars=20, temperatures=[1.0], carried_warmup=20),
                train=dict(eval_every=5, chunk=5, phases=[dict(optimizer="adam", lr=0.01, steps=10, batch_size=4)])))
