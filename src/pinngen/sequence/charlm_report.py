"""Evaluation and figures of a ``charlm`` run: nats per character against an n-gram, generated text, the loss
by position in the window, attention maps.

- ``nats_per_char`` (and ``bits_per_char = nats / ln 2``): the mean of -ln p over every character of the
  validation text, each predicted from ``block - stride + 1`` to ``block`` characters before it
  (:func:`pinngen.sequence.charlm_model.window_nll`; the first windows read the last ``block`` characters of
  the training text, so the first validation characters have full context too).
- ``nats_per_char_carried`` (recurrent models): the state carried through the validation text from
  ``evaluation.carried_warmup`` training characters on (:func:`~pinngen.sequence.charlm_model.carried_nll`).
- ``ngram_nats_per_char``: an interpolated Witten-Bell n-gram (:class:`pinngen.sequence.baselines.CharNGram`)
  fitted to the training text in the same run and scored on the validation text from its first character.
- ``uniform_nats_per_char = ln V``: guessing among the V characters of the vocabulary.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .baselines import CharNGram
from .charlm_model import _window_scores, carried_nll, generate, window_nll

LN2 = math.log(2.0)


def _decode(ids, vocab: str) -> str:
    return "".join(vocab[int(i)] for i in ids)


def default_prompt(val_text: str) -> str:
    """The validation text's first non-empty line, at most 40 characters."""
    for line in val_text.splitlines(keepends=True):
        if line.strip():
            return line[:40]
    return val_text[:1]


def samples(model, spec: dict, cfg, val_text: str) -> list[tuple[float, str]]:
    """``(temperature, prompt + generated text)`` for each of ``evaluation.temperatures``."""
    ev = cfg.evaluation
    prompt = ev.prompt or default_prompt(val_text)
    index = {c: i for i, c in enumerate(spec["vocab"])}
    bad = sorted({c for c in prompt if c not in index})
    if bad:
        raise ValueError(f"evaluation.prompt has characters outside the vocabulary: {''.join(bad)!r}; use "
                         "characters of the training text")
    ids = np.array([index[c] for c in prompt], np.int32)
    key = jax.random.PRNGKey(cfg.seed)
    out = []
    for i, t in enumerate(ev.temperatures):
        gen = generate(model, ids, ev.sample_chars, jax.random.fold_in(key, i), temperature=t, top_k=ev.top_k)
        out.append((t, prompt + _decode(gen[len(ids):], spec["vocab"])))
    return out


def evaluate(cfg, setup, model, history, run_dir) -> dict:
    ex, spec, ev = setup.extras, setup.spec, cfg.evaluation
    block = cfg.data.block
    stride = ev.stride or max(block // 2, 1)
    ctx = ex["ids_train"][-block:]
    nll = window_nll(model, np.concatenate([ctx, ex["ids_val"]]), len(ctx), block=block, stride=stride)
    nats = float(np.mean(nll))
    vocab_size = len(spec["vocab"])
    ngram = CharNGram(order=ev.ngram_order).fit(ex["train_text"]).nats_per_char(ex["val_text"])
    s = {"nats_per_char": nats, "bits_per_char": nats / LN2, "ngram_order": ev.ngram_order,
         "ngram_nats_per_char": ngram, "ngram_bits_per_char": ngram / LN2,
         "uniform_nats_per_char": math.log(vocab_size), "vocab_size": vocab_size,
         "train_chars": len(ex["train_text"]), "val_chars": len(ex["val_text"]), "block": block, "stride": stride,
         "arch": cfg.model.arch}
    rows = [[f"{cfg.model.arch} (windows of {block}, stride {stride})", nats, nats / LN2]]
    if model.recurrent:
        warm = ex["ids_train"][-max(ev.carried_warmup, 1):]
        carried = float(np.mean(carried_nll(model, np.concatenate([warm, ex["ids_val"]]), len(warm))))
        s.update(nats_per_char_carried=carried, bits_per_char_carried=carried / LN2)
        rows.append([f"{cfg.model.arch} (state carried through the text)", carried, carried / LN2])
    rows += [[f"Witten-Bell {ev.ngram_order}-gram", ngram, ngram / LN2],
             [f"uniform over {vocab_size} characters", math.log(vocab_size), math.log(vocab_size) / LN2]]

    figs = Path(run_dir) / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    by_pos = loss_by_position(model, ex["ids_val"], block)
    s["nats_first_position"], s["nats_last_position"] = float(by_pos[0]), float(by_pos[-1])
    _plot_positions(by_pos, nats, ngram, figs / "loss_by_position.png")

    texts = samples(model, spec, cfg, ex["val_text"])
    (Path(run_dir) / "samples.txt").write_text("".join(f"--- temperature {t:g}\n{x}\n" for t, x in texts),
                                               encoding="utf-8")
    _plot_samples(texts, figs / "generated_text.png")
    if not model.recurrent:
        n = min(ev.attention_chars, block, len(ex["ids_val"]))
        maps = [np.asarray(w[0]) for w in model.attention(ex["ids_val"][None, :n])]
        _plot_attention(maps, ex["val_text"][:n], figs / "attention_maps.png")

    source = "Hamlet" if cfg.data.source == "hamlet" else Path(cfg.data.source).name
    gain = 100.0 * (ngram - nats) / ngram
    s["headline"] = (f"{nats:.3f} nats per character ({nats / LN2:.3f} bits) on the last {cfg.data.val:.0%} of "
                     f"{source} for the {cfg.model.arch}, against {ngram:.3f} for a Witten-Bell "
                     f"{ev.ngram_order}-gram fitted in the same run ({abs(gain):.1f} % "
                     f"{'lower' if gain >= 0 else 'higher'}; uniform guessing: {math.log(vocab_size):.3f}).")
    notes = [f"Each validation character is predicted from {block - stride + 1} to {block} characters before it "
             f"(windows of {block} sliding by {stride}); the n-gram reads its last {ev.ngram_order - 1}."]
    if model.recurrent:
        notes.append(f"With the state carried through the whole validation text (unbounded context): "
                     f"{s['nats_per_char_carried']:.3f} nats per character.")
    notes.append(f"Loss by position in a window read from scratch: {by_pos[0]:.2f} nats for the first character, "
                 f"{by_pos[-1]:.2f} for the last" + (": the context helps." if by_pos[-1] < by_pos[0] - 0.05 else
                                                      ": the model has not learned to use the context yet."))
    notes += [f"Sample at temperature {t:g}: {x[:160]!r}" for t, x in texts]
    table = {"title": "Nats per character", "columns": ["model", "nats/char", "bits/char"], "rows": rows,
             "note": f"validation: the last {cfg.data.val:.0%} of the text, {len(ex['val_text'])} characters"}
    return {"summary": s, "tables": [table], "notes": notes, "samples": {f"{t:g}": x for t, x in texts},
            "loss_by_position": by_pos.tolist()}


def loss_by_position(model, ids: np.ndarray, block: int, *, every: int = 16, batch: int = 64) -> np.ndarray:
    """Mean -ln p ``(T,)`` at each position of windows read from scratch (no context before the window),
    over windows of ``T = min(block, len(ids) - 1)`` ids starting every ``every`` ids of ``ids``."""
    t = min(block, len(ids) - 1)
    starts = np.arange(0, len(ids) - t, every)
    offs = np.arange(t)
    total = np.zeros(t)
    for i in range(0, len(starts), batch):
        s = starts[i:i + batch]
        s_full = np.pad(s, (0, batch - len(s)), mode="edge")  # one shape, one compile
        x, y = ids[s_full[:, None] + offs], ids[s_full[:, None] + offs + 1]
        total += np.asarray(_window_scores(model, jnp.asarray(x), jnp.asarray(y)))[:len(s)].sum(0)
    return total / len(starts)


def _plot_positions(by_pos: np.ndarray, nats: float, ngram: float, path: Path) -> None:
    from pinngen.report.draw import new_figure, save_png

    fig = new_figure(7.0, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(np.arange(1, len(by_pos) + 1), by_pos, color="#2471a3", label="model, window read from scratch")
    ax.axhline(nats, color="#2471a3", ls="--", lw=1, label=f"model, full context ({nats:.3f})")
    ax.axhline(ngram, color="#c0392b", ls=":", lw=1, label=f"n-gram ({ngram:.3f})")
    ax.set_xscale("log")
    ax.set_xlabel("position in the window (characters read so far)")
    ax.set_ylabel("validation loss, nats per character")
    ax.set_title("Per-step loss: how the context lowers the loss")
    ax.legend(fontsize=8)
    save_png(fig, path)


def _plot_samples(texts: list[tuple[float, str]], path: Path) -> None:
    from pinngen.report.draw import new_figure, save_png

    blocks = []
    for t, x in texts:
        lines = [w for line in x[:600].splitlines() for w in (textwrap.wrap(line, 90) or [""])][:14]
        blocks.append((t, lines))
    height = 0.4 + sum(0.15 * (len(lines) + 2) for _, lines in blocks)
    fig = new_figure(9.0, height)
    ax = fig.add_subplot(1, 1, 1)
    ax.axis("off")
    y = 1.0 - 0.2 / height
    for t, lines in blocks:
        ax.text(0.02, y, f"temperature {t:g}", fontsize=9, fontweight="bold", va="top", transform=ax.transAxes)
        y -= 0.17 / height
        ax.text(0.02, y, "\n".join(lines), fontsize=7.5, family="monospace", va="top", transform=ax.transAxes)
        y -= 0.15 * (len(lines) + 1) / height
    save_png(fig, path)


def _plot_attention(maps: list[np.ndarray], text: str, path: Path) -> None:
    from pinngen.report.draw import new_figure, save_png

    layers, heads = len(maps), maps[0].shape[0]
    fig = new_figure(2.6 * heads, 2.6 * layers + 0.4)
    labels = [c if c.strip() else "␣" if c == " " else "⏎" for c in text]
    for li, w in enumerate(maps):
        for hi in range(heads):
            ax = fig.add_subplot(layers, heads, li * heads + hi + 1)
            ax.imshow(w[hi], cmap="viridis", vmin=0.0, vmax=max(float(w[hi].max()), 1e-6))
            ax.set_title(f"layer {li + 1}, head {hi + 1}", fontsize=8)
            ticks = np.arange(0, len(text), max(len(text) // 16, 1))
            ax.set_xticks(ticks, [labels[i] for i in ticks], fontsize=5)
            ax.set_yticks(ticks, [labels[i] for i in ticks], fontsize=5)
    fig.suptitle("Attention weights (query row, key column) on the start of the validation text", fontsize=9)
    save_png(fig, path)
