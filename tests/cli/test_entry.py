"""The console entry point: exit codes, flushed output and atexit handlers survive the fast exit."""

import subprocess
import sys

import pytest


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_output_and_atexit_handlers_survive_the_fast_exit():
    proc = run("import atexit, sys; atexit.register(lambda: print('handler ran')); "
               "sys.argv = ['text3d', '--help']; from text3d.cli import entry; entry()")
    assert proc.returncode == 0, proc.stderr
    assert "Usage" in proc.stdout and proc.stdout.rstrip().endswith("handler ran")


def test_refusal_keeps_its_exit_code_and_one_line():
    proc = subprocess.run([sys.executable, "-m", "text3d", "generate"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_a_running_worker_thread_is_waited_for():
    proc = run("import sys, threading, time\n"
               "def late(): time.sleep(0.5); print('worker finished', flush=True)\n"
               "threading.Thread(target=late).start()\n"
               "sys.argv = ['text3d', '--help']; from text3d.cli import entry; entry()")
    assert proc.returncode == 0 and "worker finished" in proc.stdout


def test_commands_are_registered_once_per_process(capsys):
    """typer appends on every registration; a second main() must not list the commands again."""
    from text3d.cli import app, main

    main(["--help"])
    counts = len(app.registered_commands), len(app.registered_groups)
    main(["--help"])
    capsys.readouterr()
    assert (len(app.registered_commands), len(app.registered_groups)) == counts
    names = [c.name for c in app.registered_commands]
    assert len(names) == len(set(names)) and "generate" in names


@pytest.mark.parametrize("value, words", [("0", "must be ≥ 1"), ("9999", "must be ≤ 500"),
                                          ("abc", "not a whole number")])
def test_an_int_option_out_of_range_is_said_in_text3ds_words(value, words, capsys, tmp_path):
    from text3d.cli import main

    assert main(["generate", "x", "--steps", value, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"text3d: error: generate: Invalid value for '--steps': {words}" and "Input should" not in err
