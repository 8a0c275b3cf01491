"""Unknown backend, evaluator and LLM names are refused in one line that names the option,
before any folder is made, file read or model loaded."""

import pytest

from text3d.cli import main

CASES = [
    (["generate", "boat", "--backend", "bogus"], "--backend bogus"),
    (["generate", "boat", "--augment", "bogus"], "--augment bogus"),
    (["generate", "boat", "--augment", ":tiny"], "--augment ':tiny'"),
    (["study", "generator", "--backend", "bogus"], "--backend bogus"),
    (["study", "generator", "--augment", "bogus:x"], "--augment bogus:x"),
    (["bias", "localize", "--prompts", "MISSING", "--backend", "bogus"], "--backend bogus"),
    (["bias", "localize", "--prompts", "MISSING", "--evaluator", "bogus"], "--evaluator bogus"),
    (["bias", "augment", "--table", "MISSING", "--generator", "bogus"], "--generator bogus"),
    (["bias", "augment", "--table", "MISSING", "--evaluator", "bogus"], "--evaluator bogus"),
    (["bias", "augment", "--table", "MISSING", "--llm", "bogus"], "--llm bogus"),
    (["bias", "study", "--evaluator", "bogus"], "--evaluator bogus"),
    (["bias", "study", "--generator", "bogus"], "--generator bogus"),
    (["bias", "study", "--llm", ""], "--llm is empty"),
    # a backend that needs a model, or takes none: refused before any work, in the option's name
    (["generate", "boat", "--augment", "llamacpp"], "--augment llamacpp needs a model"),
    (["study", "generator", "--augment", "ollama"], "--augment ollama needs a model"),
    (["bias", "augment", "--table", "MISSING", "--llm", "none:foo"], "--llm"),
    (["bias", "study", "--llm", "llamacpp"], "--llm llamacpp needs a model"),
]


@pytest.mark.parametrize("args, expected", CASES, ids=[" ".join(a[:2]) + " " + e for a, e in CASES])
def test_an_unknown_name_is_refused_naming_its_option(tmp_path, capsys, args, expected):
    out = tmp_path / "out"
    args = [str(tmp_path / "missing") if a == "MISSING" else a for a in args]
    code = main([*args, "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and expected in err[0], err
    assert "bogus" not in expected or "known:" in err[0]  # the names that would work are listed
    assert not out.exists() and not (tmp_path / "missing").exists()
