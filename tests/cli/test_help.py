"""Every command's help shows each of its option names whole at 80 columns, with its range."""

import re

import pytest
import typer

from text3d.cli import _register_commands, app, main


def _commands():
    _register_commands()
    root = typer.main.get_command(app)
    stack = [((), root)]
    while stack:
        path, command = stack.pop()
        if hasattr(command, "commands"):  # a group (typer's own group class)
            stack.extend(((*path, name), sub) for name, sub in command.commands.items())
        else:
            yield path, command


COMMANDS = sorted(_commands(), key=lambda c: c[0])


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_the_help_names_every_option_whole(path, command, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main([*path, "--help"]) == 0
    text = capsys.readouterr().out
    assert not re.search(r"-[\w-]*…", text) and max(len(line) for line in text.splitlines()) <= 80  # none cut
    for param in command.params:
        for name in (*param.opts, *param.secondary_opts):
            if name.startswith("-"):
                assert name in text, (path, name)


def test_a_range_is_shown_beside_its_option(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    main(["train", "turbo", "--help"])
    text = capsys.readouterr().out
    assert "--checkpoint-every" in text and "--no-rgb-geometry" in text and "1<=x<=4" in text
    assert "Range [0, 100]." in " ".join(text.split())  # a float range, checked by a callback


@pytest.mark.parametrize("path, option", [(("align", "calibrate"), "--temperature"), (("augment",), "--timeout"),
                                          (("generate",), "--cfg"), (("bias", "augment"), "--margin")])
def test_every_float_range_is_in_its_help(path, option, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    main([*path, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    after = text.split(option + " ")[1]
    assert re.match(r"<float> (?:(?! --).)*Range [\[(]\d[\d.]*, \d[\d.]*\]\.", after), after[:160]


def test_a_group_lists_each_command_with_its_whole_summary(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    main(["train", "--help"])
    commands = " ".join(capsys.readouterr().out.split("Commands:")[1].split())
    assert "Train the embedded image encoder (CLIP-like) and point encoder; write weights + cards." in commands
    assert "..." not in commands  # click alone cuts each summary to one line
