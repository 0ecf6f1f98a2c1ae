"""Atomic writes under interruption: a killed writer leaves no file under the final name, and its
hidden temporary is removed by the next write to the same path; output paths checked first."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from constitutive.files import atomic_write, check_output_path, remove_stale_temporaries, write_text_atomic


def _killed_writer(path):
    """Start a process that writes 1 MB to ``path`` atomically and hangs; SIGKILL it mid-write."""
    code = textwrap.dedent(f"""
        import time
        from constitutive.files import atomic_write
        def w(tmp):
            with open(tmp, "w") as fh:
                fh.write("x" * 1_000_000)
                fh.flush()
            print("writing", flush=True)
            time.sleep(60)
        atomic_write({str(path)!r}, w)
    """)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "writing"
    p.send_signal(signal.SIGKILL)
    p.wait()


def test_sigkill_leaves_no_final_file_and_the_next_write_cleans_up(tmp_path):
    target = tmp_path / "tangents.h5"
    _killed_writer(target)
    assert not target.exists()
    stale = [p for p in os.listdir(tmp_path) if p.startswith(".tangents.h5.")]
    assert len(stale) == 1 and os.path.getsize(tmp_path / stale[0]) == 1_000_000
    write_text_atomic(target, "complete")
    assert target.read_text() == "complete"
    assert os.listdir(tmp_path) == ["tangents.h5"]


def test_existing_file_survives_a_killed_rewrite(tmp_path):
    target = tmp_path / "fit.json"
    target.write_text("old result")
    _killed_writer(target)
    assert target.read_text() == "old result"
    assert remove_stale_temporaries(target) and os.listdir(tmp_path) == ["fit.json"]


def test_a_running_writers_temporary_is_kept(tmp_path):
    """Only temporaries of processes that no longer run are removed (a concurrent writer's stays)."""
    target = tmp_path / "x.h5"
    own = tmp_path / f".x.h5.{os.getpid()}.abc.tmp"
    own.write_text("mine")
    parent = tmp_path / f".x.h5.{os.getppid()}.def.tmp"
    parent.write_text("alive")
    assert remove_stale_temporaries(target) == []
    assert own.exists() and parent.exists()


def test_exception_and_ctrl_c_in_the_writer_leave_nothing(tmp_path):
    target = tmp_path / "a.txt"

    def fail(tmp):
        with open(tmp, "w") as fh:
            fh.write("partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, fail)
    assert os.listdir(tmp_path) == []


def test_output_paths_are_checked_before_work(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        check_output_path(tmp_path / "no" / "f.json", "--output")
    with pytest.raises(ValueError, match="is a directory"):
        check_output_path(tmp_path, "--output")
    with pytest.raises(ValueError, match="should end in one of .png"):
        check_output_path(tmp_path / "f.gif", "--plot", (".png",))
    assert check_output_path(tmp_path / "f.PNG", "--plot", (".png",)).endswith("f.PNG")
    time.sleep(0)


def test_fresh_temporary_is_created_by_the_writer(tmp_path):
    """fresh=True: the writer gets a reserved name with no file behind it (it creates the file
    itself, exclusively, so nothing is opened with truncation); the result and the usual
    permissions are those of a plain atomic write, and a failing writer leaves nothing."""
    target = tmp_path / "out.bin"
    seen = []

    def writer(tmp):
        seen.append(os.path.exists(tmp))
        with open(tmp, "xb") as fh:
            fh.write(b"new")

    atomic_write(target, writer, fresh=True)
    assert seen == [False] and target.read_bytes() == b"new"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask

    def failing(tmp):
        with open(tmp, "xb") as fh:
            fh.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, failing, fresh=True)
    assert sorted(os.listdir(tmp_path)) == ["out.bin"] and target.read_bytes() == b"new"
