import numpy as np
import pytest

from pinngen.sequence.metrics import accuracy, confusion_matrix, mase, rmse, smape


def test_rmse_by_hand():
    assert rmse([1.0, 2.0, 3.0], [1.0, 4.0, 0.0]) == pytest.approx(np.sqrt((0 + 4 + 9) / 3))


def test_smape_by_hand():
    # 200*|1-3|/(1+3) = 100, 200*|2-2|/4 = 0, both-zero point counts as 0
    assert smape([1.0, 2.0, 0.0], [3.0, 2.0, 0.0]) == pytest.approx(100 / 3)
    assert smape([1.0], [-1.0]) == pytest.approx(200.0)


def test_mase_by_hand():
    train = np.array([1.0, 3.0, 2.0, 6.0])
    # m=1: |3-1|, |2-3|, |6-2| -> mean 7/3; m=2: |2-1|, |6-3| -> mean 2
    truth, fc = np.array([5.0, 7.0]), np.array([4.0, 9.0])  # MAE 1.5
    assert mase(truth, fc, train) == pytest.approx(1.5 / (7 / 3))
    assert mase(truth, fc, train, m=2) == pytest.approx(0.75)


def test_accuracy_and_confusion_by_hand():
    t = np.array(["a", "b", "b", "c", "a"])
    p = np.array(["a", "b", "a", "c", "c"])
    assert accuracy(t, p) == pytest.approx(3 / 5)
    cm, labels = confusion_matrix(t, p)
    assert labels.tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(cm, [[1, 0, 1], [1, 1, 0], [0, 0, 1]])
    cm2, _ = confusion_matrix([0, 1], [1, 1], labels=[1, 0, 2])
    np.testing.assert_array_equal(cm2, [[1, 0, 0], [1, 0, 0], [0, 0, 0]])


@pytest.mark.parametrize("call, match", [
    (lambda: rmse([1.0, 2.0], [1.0]), "same shape"),
    (lambda: mase([1.0], [1.0], [1.0, 2.0], m=2), "m=2"),
    (lambda: mase([1.0], [1.0], [2.0, 2.0, 2.0]), "constant"),
    (lambda: accuracy([1, 2], [1]), "same length"),
    (lambda: confusion_matrix([0, 5], [0, 0], labels=[0, 1]), r"\[5\]"),
])
def test_metric_errors_are_one_line(call, match):
    with pytest.raises(ValueError, match=match) as e:
        call()
    assert "\n" not in str(e.value)
