"""One writer per run folder: a second run refuses at once; a killed holder does not block the next run."""

import signal
import subprocess
import sys
import time

import pytest

from pinngen.cli import main
from pinngen.core import runlock

HOLD = """
import sys, time
from pinngen.core import runlock
with runlock.hold(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def holder(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "run")], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def test_a_second_run_on_a_folder_in_use_refuses_within_a_second(tmp_path, holder, capsys):
    t0 = time.monotonic()
    code = main(["run", "dense-diabetes", "--out", str(tmp_path / "run"), "--no-progress",
                 "--set", "train.phases.0.steps=5"])
    assert code == 2 and time.monotonic() - t0 < 30  # refused before training (set-up included)
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "is in use by another pinngen run" in err
    assert f"process {holder.pid}" in err and "--out" in err
    assert not (tmp_path / "run" / "config.yaml").exists()  # nothing of the refused run was written


def test_the_lock_itself_is_refused_at_once_and_freed_when_its_holder_is_killed(tmp_path, holder):
    t0 = time.monotonic()
    with pytest.raises(runlock.RunFolderInUse), runlock.hold(tmp_path / "run"):
        pass
    assert time.monotonic() - t0 < 1.0
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with runlock.hold(tmp_path / "run"):  # the kernel dropped the dead holder's lock
        pass


def test_runs_into_different_folders_do_not_block_each_other(tmp_path, holder):
    with runlock.hold(tmp_path / "other"):
        pass
