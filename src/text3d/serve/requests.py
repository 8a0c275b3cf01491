"""Checks of a service request: refuse in one line, before anything is queued, what the worker would refuse."""

from __future__ import annotations

from text3d.errors import InputError
from text3d.generators.base import backend_options, generators
from text3d.limits import check_prompt_size, check_seed
from text3d.prompts.base import augmenters, parse_llm_spec
from text3d.render.cameras import PROTOCOLS
from text3d.runs.checks import check_augment, check_settings
from text3d.serve.schemas import JobRequest


def check_request(request: JobRequest, max_batch: int) -> None:
    """Refuse, in one line, what the worker would refuse: prompts, seeds, backend, augmenter, views."""
    prompts = request.prompt_list()
    if len(prompts) > max_batch:
        raise InputError(f"prompts: {len(prompts):,} prompts, more than {max_batch:,} in one job")
    for index, prompt in enumerate(prompts):
        label = "prompt" if request.prompt is not None else f"prompts[{index}]"
        if not prompt.strip():
            raise InputError(f"{label} is empty")
        check_prompt_size(prompt, label)
    check_seed("seed", request.seed, len(prompts))
    options = request.options
    check_settings(options.steps, options.cfg, options.candidates, options.resolution)
    backend_options(request.backend, candidates=options.candidates)  # unknown backend or option: one line
    generators.get(request.backend).check_installed()  # an external backend whose package is absent
    for protocol in options.views:
        if protocol not in PROTOCOLS:
            raise InputError(f"views: unknown view protocol {protocol!r} (known: {', '.join(PROTOCOLS)})")
    if len(set(options.views)) != len(options.views):
        raise InputError(f"views: {options.views} names a protocol twice")
    spec = parse_llm_spec(request.augment, "augment")
    if spec.backend not in augmenters.names():  # "none" is a registered augmenter: named once
        raise InputError(f"augment {request.augment!r}: unknown augmenter (known: {', '.join(augmenters.names())})")
    if spec.model.startswith(("/", ".", "~")) or ".." in spec.model or "\\" in spec.model:
        raise InputError(f"augment {request.augment!r}: a model is named by its id, never by a path")
    check_augment(request.augment, "augment")  # the CLI's check: a missing model, a model the backend takes none of
