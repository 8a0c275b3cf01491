"""The console entry point: exit codes, flushed output and atexit handlers survive the fast exit."""

import subprocess
import sys


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
