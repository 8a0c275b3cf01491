"""``text3d augment``: short prompt(s) → caption(s) with an LLM backend."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from text3d.cli._options import finite_option, seed_option, wait_option, wait_seconds
from text3d.data.prompt_files import read_prompts
from text3d.errors import InputError
from text3d.limits import (
    MAX_CAPTION_WORDS_LIMIT,
    MAX_RETRIES,
    MAX_TEMPERATURE,
    MAX_TIMEOUT_S,
    MAX_TOKENS,
    check_prompt_size,
)
from text3d.prompts.augment import PromptAugmenter, server_options
from text3d.prompts.base import BackendUnavailableError, GenerationParams
from text3d.prompts.batch import ResultsFile, augment_batch
from text3d.store.atomic import dumps_json
from text3d.store.outputs import check_not_input
from text3d.text import MAX_CAPTION_WORDS, MAX_PROMPT_WORDS, word_count

log = logging.getLogger(__name__)


def augment_command(
    prompt: str | None = typer.Argument(
        None, help=f"A short prompt (≤ {MAX_PROMPT_WORDS} words), e.g. 'small blue sailboat'."),
    llm: str = typer.Option("embedded", "--llm",
                            help="embedded, none, llamacpp:TAG_OR_GGUF, ollama:TAG, openai:MODEL or hf:REPO_OR_PATH."),
    seed: int = seed_option(help="Sampling seed (retries use seed + attempt)."),
    json_output: bool = typer.Option(False, "--json", help="Print the result (or batch summary) as JSON."),
    prompts: Path | None = typer.Option(None, "--prompts",
                                        help="Batch: a text file (one prompt a line) or JSONL with 'prompt'."),
    out: Path | None = typer.Option(None, "--out", "-o",
                                    help="Batch: the JSONL results file. New rows are appended to an earlier "
                                         "results file (its rows are kept); prompts already done are skipped."),
    temperature: float = finite_option(0.7, "--temperature", 0.0, MAX_TEMPERATURE,
                                       "Sampling temperature of LLM backends."),
    max_tokens: int = typer.Option(1024, "--max-tokens", min=1, max=MAX_TOKENS,
                                   help="Most tokens an LLM may generate per answer."),
    retries: int = typer.Option(2, "--retries", min=0, max=MAX_RETRIES,
                                help="Retries when an answer breaks the caption rules."),
    max_words: int = typer.Option(MAX_CAPTION_WORDS, "--max-words", min=1, max=MAX_CAPTION_WORDS_LIMIT,
                                  help="Most words in a caption."),
    timeout: float | None = finite_option(None, "--timeout", 0.0, MAX_TIMEOUT_S,
                                          "Seconds an LLM server may take per caption, over all tries (default 60).",
                                          low_open=True),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the augmentation cache."),
    strict: bool = typer.Option(False, "--strict", help="A caption that breaks the rules is an error."),
    wait: bool = wait_option(),
) -> None:
    """Augment a short prompt into a detailed object caption, or a file of prompts into JSONL."""

    if (prompt is None) == (prompts is None):
        raise InputError("give either one PROMPT or --prompts FILE (with --out FILE)")
    if prompts is not None and out is None:
        raise InputError("--prompts needs --out FILE.jsonl for the results")
    if prompt is not None and out is not None:
        raise InputError("--out is for batches (--prompts FILE); one PROMPT prints its caption")
    params = GenerationParams(temperature=temperature, max_tokens=max_tokens, max_retries=retries,
                              max_words=max_words)
    batch_input = None
    if prompts is not None:
        assert out is not None
        check_not_input(out, [prompts])
        ResultsFile(out).check()  # before any model loads
        batch_input = read_prompts(prompts)
    for number, text in enumerate([prompt] if prompt is not None else batch_input or [], 1):
        label = f"prompt {number} of {prompts}" if prompts is not None else "prompt"
        check_prompt_size(text, label)
        if word_count(text) > max_words:  # a caption keeps the prompt's words, so none could pass
            raise InputError(f"--max-words {max_words}: the {label} alone has {word_count(text)} words, and a "
                             "caption keeps them")
    stage = PromptAugmenter(llm, params, cache=not no_cache, strict=strict, **server_options(llm, timeout))

    if prompt is not None:
        result = stage.augment(prompt, seed)
        typer.echo(dumps_json(result.to_dict()) if json_output else result.caption)
        return

    from dataclasses import asdict

    assert prompts is not None and out is not None and batch_input is not None
    summary = augment_batch(batch_input, out, seed=seed, augmenter=stage, source=prompts,
                            wait_s=wait_seconds(wait))
    done = summary.resumed + summary.augmented
    if json_output:
        typer.echo(dumps_json({**asdict(summary), "out": str(out)}))
    else:
        typer.echo(f"{done} of {summary.total} prompts augmented with {stage.label} → {out} "
                   f"({summary.resumed} from an earlier run, {summary.cached} cached, "
                   f"{summary.rules_failed} breaking the caption rules, {summary.failed} failed)")
    if summary.stopped:
        raise BackendUnavailableError(f"{summary.stopped}; {done} of {summary.total} prompts done, "
                                      "rerun the same command to resume")
    if summary.failed:  # a batch that finished with failed items: exit 1, as generate --prompts
        typer.echo(f"text3d: error: {summary.failed} of {summary.total} prompts failed (rows with 'error' in "
                   f"{out}); rerun the same command to retry them", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("augment")(augment_command)
