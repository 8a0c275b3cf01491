"""`text3d study augment` refuses a bad --llms entry, dataset or seed range in one line, before any output."""

import pytest

from text3d.cli import main


@pytest.mark.parametrize(("args", "message"), [
    (["--llms", "none,nosuch:model"], "unknown augmenter 'nosuch'"),
    (["--llms", "none,embedded,none"], "more than once"),
    (["--llms", "none,"], "--llms 'none,': an empty entry"),
    (["--llms", ","], "an empty entry"),
    (["--llms", "none", "--dataset", "toyland"], "use toyworld, prompts:FILE or toys4k:DIR"),
    (["--llms", "none", "--dataset", "prompts:/nonexistent/prompts.txt"], "no such prompts file"),
    (["--llms", "none", "--seed", "1899999", "--n", "200"], "development range and test range"),
    (["--llms", "none", "--backend", "nosuch"], "nosuch"),
])
def test_refusals_are_one_line_and_write_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "study"
    code = main(["study", "augment", "--out", str(out), "--n", "2", *args])
    err = capsys.readouterr().err
    assert code != 0
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_the_command_resumes_its_own_folder_and_refuses_a_foreign_one(tmp_path, capsys):
    import torch

    torch.set_num_threads(1)
    out = tmp_path / "study"
    args = ["study", "augment", "--out", str(out), "--n", "2", "--llms", "none", "--backend", "procedural",
            "--resolution", "32"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert "| – | none |" in first and (out / "cost.json").is_file()
    assert main(args) == 0  # every file the study wrote is its own
    assert capsys.readouterr().out == first
    (out / "notes.txt").write_text("mine")
    assert main(args) != 0 and "notes.txt" in capsys.readouterr().err
