"""The executor protocol without a cluster: spec parsing, the local executor, the CLI option."""

import os

import pytest

from text3d.cli import main
from text3d.errors import InputError
from text3d.executors import Stage, check_executor, create_executor, executor_names, using_executor
from text3d.executors.base import parse_executor
from text3d.executors.local import LocalExecutor


def test_both_executors_are_registered():
    assert {"local", "ray"} <= set(executor_names())


@pytest.mark.parametrize("spec, parsed", [("local", ("local", None)), (None, ("local", None)),
                                          ("ray", ("ray", None)), ("ray:auto", ("ray", "auto")),
                                          ("ray:ray://head:10001", ("ray", "ray://head:10001"))])
def test_specs_split_at_the_first_colon(spec, parsed):
    assert parse_executor(spec) == parsed


@pytest.mark.parametrize("spec, message", [("dask", "unknown executor 'dask'"), ("ray:", "give an address"),
                                           ("local:host", "takes no address")])
def test_bad_specs_are_refused_in_one_line(spec, message):
    with pytest.raises(InputError, match=message) as caught:
        check_executor(spec)
    assert "\n" not in str(caught.value) and spec in str(caught.value)


def _count_setup(calls: list) -> list:
    calls.append(os.getpid())
    return calls


def _square(state: list, item: int) -> tuple[int, int]:
    return item * item, len(state)


def test_local_executor_sets_up_once_and_keeps_item_order():
    calls: list = []
    stage = Stage("square", lambda: _count_setup(calls), _square)
    results = list(LocalExecutor().map(stage, [3, 1, 2]))
    assert results == [(0, (9, 1)), (1, (1, 1)), (2, (4, 1))]
    assert calls == [os.getpid()]  # one setup, in this process


def test_local_executor_loads_nothing_without_items():
    def fail() -> None:
        raise AssertionError("setup ran without items")

    assert list(LocalExecutor().map(Stage("none", fail, _square), [])) == []


def test_using_executor_closes_only_what_it_created():
    created = []

    class Owned(LocalExecutor):
        def close(self) -> None:
            created.append("closed")

    owned = Owned()
    with using_executor(owned) as running:
        assert running is owned
    assert created == []
    with using_executor("local") as running:
        assert isinstance(running, LocalExecutor)
    assert isinstance(create_executor(None), LocalExecutor)


def test_cli_refuses_an_unknown_executor_before_any_output(tmp_path, capsys):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("small blue sailboat\n")
    code = main(["generate", "--prompts", str(prompts), "--out", str(tmp_path / "run"), "--executor", "dask"])
    err = capsys.readouterr().err
    assert code == 2 and "unknown executor 'dask'" in err
    assert not (tmp_path / "run").exists()


def test_cli_refuses_an_executor_for_one_prompt(tmp_path, capsys):
    code = main(["generate", "small blue sailboat", "--out", str(tmp_path / "one"), "--executor", "ray"])
    assert code == 2 and "--prompts batch" in capsys.readouterr().err


def test_an_unreachable_cluster_is_refused_before_any_output(tmp_path):
    with pytest.raises(InputError, match="cannot reach the cluster"):
        check_executor("ray:127.0.0.1:1")  # nothing listens on port 1
    with pytest.raises(InputError, match="give HOST:PORT"):
        check_executor("ray:nohost")


def test_eval_refuses_an_unknown_executor_before_any_output(tmp_path, capsys):
    from tests.eval.runs import make_run

    run = make_run(tmp_path / "run", [("box", "red"), ("sphere", "blue")])
    code = main(["eval", "--generated", str(run), "--out", str(tmp_path / "eval"), "--executor", "local:x"])
    assert code == 2 and "takes no address" in capsys.readouterr().err
    assert not (tmp_path / "eval").exists()
