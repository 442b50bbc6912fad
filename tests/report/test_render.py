"""Render a report with headless chromium and check the screenshot shows something."""

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pinngen.report import write_report

CHROMIUM = "/usr/bin/chromium"
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "render_report.sh"


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs /usr/bin/chromium")
def test_render_screenshot(run_dir, tmp_path):
    from matplotlib.image import imread

    run = run_dir
    write_report(run)
    out = tmp_path / "shot.png"
    env = dict(os.environ, WINDOW_SIZE="1280,1600", TIMEOUT="60")
    result = subprocess.run(["bash", str(SCRIPT), str(run), str(out)], capture_output=True, text=True,
                            timeout=90, env=env)
    assert result.returncode == 0, result.stderr
    image = imread(out)  # (H, W, channels) floats in [0, 1]
    assert image.shape[0] >= 1000 and image.shape[1] >= 1000
    assert float(np.var(image[..., :3])) > 1e-3  # not a blank page
