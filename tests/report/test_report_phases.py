"""Phase shading of the loss plot: labels per block or per marching window, and only where they fit."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from pinngen.report.draw import phase_labels, shade_phases  # noqa: E402


def _texts(blocks):
    fig, ax = plt.subplots()
    ax.set_xlim(blocks[0][1], blocks[-1][2])
    shade_phases(ax, blocks, label=True)
    texts = [t.get_text().strip() for t in ax.texts]
    plt.close(fig)
    return texts


def test_marching_phases_are_labelled_once_per_window():
    blocks = []
    for w in range(1, 11):
        lo = (w - 1) * 3000
        blocks += [(f"w{w}/adam", lo, lo + 2000), (f"w{w}/lbfgs", lo + 2000, lo + 3000)]
    labels = phase_labels(blocks)
    assert [t for t, _, _ in labels] == [f"w{w}" for w in range(1, 11)]
    assert labels[2][1:] == (6000, 9000)
    assert _texts(blocks) == [f"w{w}" for w in range(1, 11)]


def test_plain_phases_keep_their_names_and_narrow_ones_lose_the_label():
    assert _texts([("adam", 0, 6000), ("lbfgs", 6000, 14000)]) == ["adam", "lbfgs"]
    # a 10-step block in a 10,000-step run has no room for "lbfgs"
    assert _texts([("adam", 0, 9990), ("lbfgs", 9990, 10000)]) == ["adam"]
