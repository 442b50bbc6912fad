import pytest

from pinngen.config import ConfigError, apply_overrides, load_config


def test_overrides_nested_and_list_index():
    raw = {"a": {"b": 1}, "l": [{"x": 1}, {"x": 2}]}
    out = apply_overrides(raw, ["a.b=2.5", "l.1.x=7", "a.c=[1, 2]"])
    assert out == {"a": {"b": 2.5, "c": [1, 2]}, "l": [{"x": 1}, {"x": 7}]}
    assert raw["a"]["b"] == 1  # not mutated


def test_bad_override_syntax():
    with pytest.raises(ConfigError, match="expected key=value"):
        apply_overrides({}, ["novalue"])
    with pytest.raises(ConfigError, match="not an index"):
        apply_overrides({"l": [1]}, ["l.5=2"])


def test_load_builtin_with_seed_and_unknown_kind(tmp_path):
    cfg = load_config("dense-diabetes", ["train.phases.0.lr=0.01"], seed=7)
    assert cfg.seed == 7 and cfg.train.phases[0].lr == 0.01
    p = tmp_path / "c.yaml"
    p.write_text("kind: nope\n")
    with pytest.raises(ConfigError, match="unknown kind 'nope'"):
        load_config(p)
    p.write_text("kind: dense\ntrain: {phases: [{optimizer: lbfgs, batch_size: 8}]}\n")
    with pytest.raises(ConfigError, match="lbfgs needs the full batch"):
        load_config(p)
    p.write_text("kind: dense\n  bad: [\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(p)
