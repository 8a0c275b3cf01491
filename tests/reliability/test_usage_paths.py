"""Every command and option through typer's own error paths: unknown options, missing
values, values that do not parse, values outside their range, NaN. Each must end with exit
code 2 and one line naming the option, before any work is done."""

from __future__ import annotations

import pytest
import typer

from tests.reliability.conftest import assert_one_clean_line
from text3d.cli import _register_commands, app, main


def _commands():
    """(path, click command) of every command, groups included."""
    _register_commands()
    root = typer.main.get_command(app)

    def walk(command, path):
        yield path, command
        for name, child in sorted(getattr(command, "commands", {}).items()):
            yield from walk(child, [*path, name])

    return list(walk(root, []))


COMMANDS = _commands()
LEAVES = [(path, c) for path, c in COMMANDS if path and not getattr(c, "commands", None)]


def _kind(param) -> str:
    """``int``, ``float`` or ``other``: typer ≥ 0.20 describes types by annotation, click by ParamType."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:
        annotation = descriptor.annotation
        args = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)]
        annotation = args[0] if args else annotation
        return {int: "int", float: "float"}.get(annotation, "other")
    name = type(getattr(param, "type", None)).__name__
    return "int" if name in ("IntParamType", "IntRange") else "float" if name in ("FloatParamType",
                                                                                   "FloatRange") else "other"


def _bounds(param):
    holder = param if hasattr(param, "min") else getattr(param, "type", None)
    return getattr(holder, "min", None), getattr(holder, "max", None)


def _is_argument(param) -> bool:
    return "Argument" in type(param).__name__


def _placeholder(param, tmp_path):
    """A value that parses for ``param`` (so that only the option under test is wrong)."""
    if _kind(param) == "int":
        low = _bounds(param)[0]
        return str(low if low is not None else 1)
    if _kind(param) == "float":
        return "1"
    return str(tmp_path / "placeholder")


def _required_args(command, tmp_path, skip=None):
    args = []
    for param in command.params:
        if param is skip or not param.required:
            continue
        if _is_argument(param):
            args.append(_placeholder(param, tmp_path))
        else:
            args += [param.opts[0], _placeholder(param, tmp_path)]
    return args


def _numeric_options():
    for path, command in LEAVES:
        for param in command.params:
            if not _is_argument(param) and _kind(param) in ("int", "float"):
                yield pytest.param(path, command, param, id=f"{' '.join(path)} {param.opts[0]}")


NUMERIC = list(_numeric_options())


def run(capsys, args):
    code = main([str(a) for a in args])
    return code, capsys.readouterr()


def test_the_walk_sees_every_command():
    names = {" ".join(p) for p, _ in LEAVES}
    assert {"generate", "augment", "render", "points", "info", "eval compare", "data toyworld", "data toys4k",
            "data prompts", "train encoders", "train generator", "study generator", "encoders evaluate"} <= names
    assert len(NUMERIC) >= 40


def test_bare_text3d_is_a_usage_error(capsys):
    code, captured = run(capsys, [])
    assert code == 2 and "Usage" in captured.out  # the command list is shown
    assert_one_clean_line(captured.err)


@pytest.mark.parametrize("path", [p for p, c in COMMANDS if p and getattr(c, "commands", None)],
                         ids=lambda p: " ".join(p))
def test_bare_group_is_a_usage_error(capsys, path):
    code, captured = run(capsys, path)
    if path == ["eval"]:  # eval is itself a command with required options
        assert code == 2 and "--generated" in captured.err
    else:
        assert code == 2 and "no command given" in captured.err
    assert_one_clean_line(captured.err)


@pytest.mark.parametrize("path", [["bogus"], ["data", "bogus"], ["train", "bogus"], ["generat"]],
                         ids=lambda p: " ".join(p))
def test_unknown_command(capsys, path):
    code, captured = run(capsys, path)
    assert code == 2 and "No such command" in captured.err
    assert_one_clean_line(captured.err)


@pytest.mark.parametrize("path,command", LEAVES, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_unknown_option(capsys, tmp_path, path, command):
    code, captured = run(capsys, [*path, *_required_args(command, tmp_path), "--no-such-option"])
    assert code == 2 and "No such option: --no-such-option" in captured.err
    assert_one_clean_line(captured.err)
    assert not (tmp_path / "placeholder").exists()  # nothing was written


@pytest.mark.parametrize("path,command", [(p, c) for p, c in LEAVES if any(q.required for q in c.params)],
                         ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_missing_required_parameter(capsys, path, command):
    code, captured = run(capsys, path)
    assert code == 2 and "Missing" in captured.err
    assert_one_clean_line(captured.err)


@pytest.mark.parametrize("path,command", LEAVES, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_help(capsys, path, command):
    code, captured = run(capsys, [*path, "--help"])
    assert code == 0 and "Usage" in captured.out and captured.err == ""


@pytest.mark.parametrize("path,command,param", NUMERIC)
def test_number_that_does_not_parse(capsys, tmp_path, path, command, param):
    code, captured = run(capsys, [*path, *_required_args(command, tmp_path, skip=param), param.opts[0], "abc"])
    assert code == 2 and f"'{param.opts[0]}" in captured.err
    assert_one_clean_line(captured.err)
    assert not (tmp_path / "placeholder").exists()


@pytest.mark.parametrize("path,command,param", NUMERIC)
def test_option_without_its_value(capsys, tmp_path, path, command, param):
    code, captured = run(capsys, [*path, *_required_args(command, tmp_path, skip=param), param.opts[0]])
    assert code == 2 and param.opts[0] in captured.err
    assert_one_clean_line(captured.err)


@pytest.mark.parametrize("path,command,param", NUMERIC)
def test_number_outside_its_range(capsys, tmp_path, path, command, param):
    """Every number option has a range; one past either end is refused, naming the option."""
    low, high = _bounds(param)
    values = []
    if low is not None:
        values.append(low - 1)
    if high is not None:
        values.append(high + 1)
    if _kind(param) == "float":
        values += ["nan", "inf", "-inf", "-1e9"]
    assert values, f"{param.opts[0]} has no range"
    for value in values:
        args = [*path, *_required_args(command, tmp_path, skip=param), param.opts[0], str(value)]
        code, captured = run(capsys, args)
        assert code == 2 and f"'{param.opts[0]}" in captured.err, (value, captured.err)
        assert_one_clean_line(captured.err)
    assert not (tmp_path / "placeholder").exists()


def test_seed_past_64_bits(capsys, tmp_path):
    code, captured = run(capsys, ["generate", "red chair", "--out", tmp_path / "a", "--seed", str(2**64 + 1)])
    assert code == 2 and "'--seed'" in captured.err and not (tmp_path / "a").exists()
