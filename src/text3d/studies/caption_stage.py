"""The study's caption stage of one (LLM, generator seed) cell, in a process of its own.

All rows of a study run in one process, so that process's peak memory is the largest row's. To
give each LLM its own figure, the captions are made first in a child process
(``python -m text3d.studies.caption_stage``, a JSON request on stdin), which

1. loads the LLM and writes one caption of the first prompt with the cache off, so a warm cache
   still loads the model and the peak covers it;
2. captions prompt i with seed ``seed + i`` through the augmentation cache, the key
   :func:`text3d.runs.pipeline.generate_batch` uses, so the run then reads every caption from
   the cache;
3. prints one JSON line: ``peak_mb`` (the child's ``ru_maxrss``: Python, text3d's imports, the
   model and its working memory), ``load_s`` (step 1) and ``captions`` (seconds of step 2).

A prompt the augmenter refuses is left to the run, which records the refusal as that item's
error; the figures of the other prompts stand. An LLM that cannot run at all (a spec without its
model, a missing model file, a server that does not answer) stops the study with the child's one line.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from text3d.errors import BackendError, InputError, ModelNotAvailableError, Text3DError, one_line
from text3d.store.atomic import write_json

log = logging.getLogger(__name__)

def caption_prompts(llm: str, prompts: list[str], seed: int) -> dict[str, Any]:
    """In this process: steps 1–2 above; the figures of step 3 as a dict."""
    from text3d.prompts.augment import PromptAugmenter

    start = time.perf_counter()
    PromptAugmenter(llm, cache=False).augment(prompts[0], seed=seed)
    loaded = time.perf_counter() - start
    stage = PromptAugmenter(llm)
    start = time.perf_counter()
    refused = 0
    for index, prompt in enumerate(prompts):
        try:
            stage.augment(prompt, seed=seed + index)
        except (InputError, BackendError) as exc:
            refused += 1
            log.warning("%s: %s", llm, one_line(str(exc)))
    return {"llm": llm, "prompts": len(prompts), "refused": refused, "load_s": loaded,
            "caption_s": time.perf_counter() - start,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def measure_caption_stage(llm: str, prompts: list[str], seed: int, record: Path) -> dict[str, Any]:
    """Caption ``prompts`` in a child process and write its figures to ``record`` (beside the run
    folder: a run folder holds only its own files); a record already there (the cell ran before) is
    returned as it is. A child that fails leaves no record: the run then captions in process, as
    without this stage."""
    if record.is_file():
        return json.loads(record.read_text(encoding="utf-8"))
    request = json.dumps({"llm": llm, "prompts": prompts, "seed": seed})
    proc = subprocess.run([sys.executable, "-m", "text3d.studies.caption_stage"], input=request,
                          capture_output=True, text=True, env={**os.environ, "TEXT3D_PROGRESS": "0"})
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit code {proc.returncode}"
        for error in (InputError, ModelNotAvailableError, BackendError):  # the child's own one-line refusal
            if proc.returncode == error.exit_code:
                raise error(f"--llms {llm}: {reason}")
        log.warning("%s: caption stage failed (%s); captioning in the study's process", llm, reason)
        return {}
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    record.parent.mkdir(parents=True, exist_ok=True)
    write_json(record, figures)
    return figures


def main() -> int:
    """Entry point of the child: the request on stdin, the figures as the last stdout line."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    request = json.loads(sys.stdin.read())
    try:
        figures = caption_prompts(request["llm"], list(request["prompts"]), int(request["seed"]))
    except Text3DError as exc:  # a bad spec or a missing model: one line, the CLI's exit code
        print(one_line(str(exc)), file=sys.stderr)
        return exc.exit_code
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
