"""The ``charlm`` kind: learning a text, scoring, generation (one compiled loop), `pinngen sample --prompt`."""

import math
from pathlib import Path

import equinox as eqx
import jax
import numpy as np
import pytest

import pinngen
from pinngen.cli import main
from pinngen.config import ConfigError, load_config
from pinngen.core.checkpoint import load_spec
from pinngen.data import DataError
from pinngen.sequence import charlm_experiment as CE
from pinngen.sequence.charlm_model import CharLM, carried_nll, window_nll

TEXT = "the cat sat on the mat. the dog ate the hat! " * 60  # 2700 characters, 16 distinct


def _config(path, **model):
    return {"kind": "charlm", "name": "tiny-lm", "data": {"source": str(path), "block": 16},
            "model": {"arch": "lstm", "hidden": 32, "embed": 8, "dropout": 0.0, **model},
            "evaluation": {"temperatures": [1.0], "sample_chars": 40, "prompt": "the "},
            "train": {"eval_every": 50, "chunk": 50, "progress": False,
                      "phases": [{"optimizer": "adam", "lr": 0.02, "steps": 150, "batch_size": 16}]}}


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("charlm")
    (root / "text.txt").write_text(TEXT, encoding="utf-8")
    return pinngen.run(_config(root / "text.txt"), out=root / "run", progress=False)


def test_learns_a_repetitive_text_far_below_uniform_guessing(lm_run):
    s = lm_run.metrics["summary"]
    vocab = len(set(TEXT))
    assert s["vocab_size"] == vocab and s["uniform_nats_per_char"] == pytest.approx(math.log(vocab))
    assert s["nats_per_char"] < 0.15 * math.log(vocab), s["nats_per_char"]
    assert s["bits_per_char"] == pytest.approx(s["nats_per_char"] / math.log(2))
    assert s["nats_per_char_carried"] < 0.15 * math.log(vocab)
    assert np.isfinite(s["ngram_nats_per_char"])
    assert "Witten-Bell 5-gram" in s["headline"]
    figs = {p.name for p in (lm_run.path / "figures").glob("*.png")}
    assert {"loss_by_position.png", "generated_text.png"} <= figs
    assert (lm_run.path / "samples.txt").read_text(encoding="utf-8").count("--- temperature") == 1


def test_generation_follows_the_seed_keeps_the_prompt_and_the_vocabulary(lm_run):
    a = lm_run.generate("the ", 60, temperature=2.0, seed=1)
    assert a == lm_run.generate("the ", 60, temperature=2.0, seed=1)
    assert a != lm_run.generate("the ", 60, temperature=2.0, seed=2)
    assert len(a) == 64 and a.startswith("the ") and set(a) <= set(TEXT)


@eqx.filter_jit
def _logits(model, x):
    return model(x)


def _greedy_reference(model, prompt_ids, n, window=None):
    """Greedy decoding by re-reading the whole text (or its last ``window`` ids) in one causal pass each time
    (right-padded to one length, so one compile: the padding comes after the position read)."""
    ids, length = list(prompt_ids), window or len(prompt_ids) + n
    for _ in range(n):
        ctx = ids[-window:] if window else ids
        x = np.zeros((1, length), np.int32)
        x[0, :len(ctx)] = ctx
        ids.append(int(np.argmax(np.asarray(_logits(model, x))[0, len(ctx) - 1])))
    return ids


def test_top_k_1_is_greedy_decoding(lm_run):
    spec = load_spec(lm_run.path / "model")
    prompt = "the d"
    ids = _greedy_reference(lm_run.model, CE.encode(prompt, spec["vocab"]), 30)
    assert lm_run.generate(prompt, 30, top_k=1, seed=5) == CE.decode(ids, spec["vocab"])
    assert lm_run.generate(prompt, 30, top_k=1, seed=5) == lm_run.generate(prompt, 30, top_k=1, seed=6)


def test_transformer_generates_past_its_block_by_sliding_its_window():
    vocab, block = 7, 8
    spec = {"vocab": "abcdefg", "arch": "transformer", "block": block}
    model = CharLM(vocab=vocab, arch="transformer", hidden=16, heads=2, layers=2, block=block,
                   key=jax.random.PRNGKey(3))
    out = CE.generate(model, spec, "abc", 12, top_k=1)  # 15 characters: the window slides past 8
    assert out == CE.decode(_greedy_reference(model, [0, 1, 2], 12, window=block), spec["vocab"])


def test_window_and_carried_scores_match_a_direct_computation():
    model = CharLM(vocab=5, arch="lstm", hidden=8, embed=4, key=jax.random.PRNGKey(0))
    ids = np.random.default_rng(0).integers(0, 5, 60)
    logp = np.asarray(jax.nn.log_softmax(model(ids[None, :-1])[0], axis=-1))  # the whole text, one pass
    whole = -logp[np.arange(59), ids[1:]]
    np.testing.assert_allclose(carried_nll(model, ids, 20), whole[19:], rtol=1e-5)
    w = window_nll(model, ids, 20, block=60, stride=41)  # one window holding everything: same as one pass
    np.testing.assert_allclose(w, whole[19:], rtol=1e-5)
    direct = []  # stride 1: target t read from exactly the block of 10 ids before it
    for t in range(20, 60):
        lp = np.asarray(jax.nn.log_softmax(_logits(model, ids[None, t - 10:t])[0, -1]))
        direct.append(-lp[ids[t]])
    np.testing.assert_allclose(window_nll(model, ids, 20, block=10, stride=1, batch=7), direct, rtol=1e-5)
    assert len(window_nll(model, ids, 20, block=10, stride=3, batch=4)) == 40


def test_cli_sample_prompt_to_stdout_and_file(lm_run, tmp_path, capsys):
    assert main(["sample", str(lm_run.path), "--prompt", "the ", "-n", "20", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("the ") and out == lm_run.generate("the ", 20, seed=3) + "\n"
    path = tmp_path / "gen.txt"
    assert main(["sample", str(lm_run.path), "--prompt", "the ", "-n", "20", "--top-k", "1",
                 "--temperature", "0.7", "--out", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == lm_run.generate("the ", 20, top_k=1)


def test_prompt_outside_the_vocabulary_is_a_one_line_error(lm_run, capsys):
    assert main(["sample", str(lm_run.path), "--prompt", "the Zebra", "-n", "5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "outside the model's vocabulary" in err and "'Z'" in err
    assert main(["sample", str(lm_run.path), "--prompt", "", "-n", "5"]) == 2
    assert "empty" in capsys.readouterr().err
    with pytest.raises(ValueError, match="top_k=99"):
        lm_run.generate("the ", 5, top_k=99)


def test_bad_text_and_settings_fail_with_one_line(tmp_path):
    cfg = load_config(_config(tmp_path / "missing.txt"))
    with pytest.raises(DataError, match="no such file"):
        CE.setup(cfg)
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    with pytest.raises(DataError, match="empty"):
        CE.setup(load_config(_config(tmp_path / "empty.txt")))
    (tmp_path / "short.txt").write_text("abc" * 5, encoding="utf-8")
    with pytest.raises(DataError, match="too short"):
        CE.setup(load_config(_config(tmp_path / "short.txt")))
    (tmp_path / "unseen.txt").write_text("ab" * 200 + "Q", encoding="utf-8")
    with pytest.raises(DataError, match="never seen in training: 'Q'"):
        CE.setup(load_config(_config(tmp_path / "unseen.txt")))
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 ".encode("latin-1") * 100)
    with pytest.raises(DataError, match="not UTF-8"):
        CE.setup(load_config(_config(tmp_path / "latin1.txt")))
    raw = _config(tmp_path / "x.txt")
    raw["train"]["batching"] = {"sampler": "permutation"}
    with pytest.raises(ConfigError, match="random windows"):
        load_config(raw)
    assert load_config(_config(tmp_path / "x.txt")).train.batching.length == 16


def test_example_yaml_and_builtin_load():
    root = Path(__file__).resolve().parents[2]
    cfg = load_config(root / "examples" / "charlm_own_text.yaml")
    assert cfg.kind == "charlm" and cfg.train.batching.sampler == "windows"
    builtin = load_config("charlm-hamlet")
    assert builtin.train.max_train_seconds == 1200 and builtin.data.source == "hamlet"
