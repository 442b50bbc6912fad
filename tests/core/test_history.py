import numpy as np

from pinngen.core.history import History


def _h():
    h = History()
    h.extend(range(3), "adam", {"loss": [3.0, 2.0, 1.0], "loss/a": [1.0, 1.0, 0.5]})
    h.record(2, {"val/loss": 1.5})
    h.extend(range(3, 5), "lbfgs", {"loss": [0.5, np.inf]})
    h.meta["phases"] = [{"optimizer": "adam"}]
    return h


def test_series_drops_unrecorded_but_keeps_divergence():
    h = _h()
    s, v = h.series("val/loss")
    assert list(s) == [2] and list(v) == [1.5]
    s, v = h.series("loss/a")
    assert list(s) == [0, 1, 2]
    assert np.isinf(h.series("loss")[1][-1])
    assert h.term_names() == ["a"] and h.val_names() == ["loss"]


def test_csv_and_json_round_trip(tmp_path):
    h = _h()
    h.to_csv(tmp_path / "h.csv")
    h.to_json(tmp_path / "h.json")
    for g in (History.from_csv(tmp_path / "h.csv"), History.from_json(tmp_path / "h.json")):
        assert g.phases == h.phases and list(g.steps) == list(h.steps)
        for c in h.columns:
            np.testing.assert_array_equal(g.column(c), h.column(c))
    assert History.from_json(tmp_path / "h.json").meta == h.meta


def test_unknown_column_lists_known():
    import pytest

    with pytest.raises(KeyError, match="known: loss"):
        _h().column("nope")
