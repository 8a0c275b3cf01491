"""Benchmark: the embedded augmenter's throughput and the cost of the caption rules.

1. ``embedded`` through the full stage (``PromptAugmenter.augment``: prompt checks, caption,
   rules check, result) on 1,000 prompts — toyworld prompts with attributes, groups, and
   prompts outside the vocabulary — against the ``none`` identity backend through the same
   stage in the same process. Target: ≥ 1,000 prompts/s on one core.
2. ``apply_rules`` on realistic LLM outputs (reasoning blocks, chatter, quotes, lists,
   80-word rambles, refusals, other languages) against a naive regex-free cleanup (split at
   ``</think>``, cut to 40 words, set lookup of the prompt's words) that does a fraction of
   the work. Target: ≤ 1 ms per caption.

    .venv/bin/python benchmarks/bench_augment.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import median_seconds  # noqa: E402


def pin_to_one_core() -> str:
    """Run on one CPU (the target is per core); returns a description."""
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity on this platform)"


def benchmark_prompts(count: int = 1000) -> list[str]:
    from text3d.data.toyworld.vocabulary import CATEGORIES, COLOR_NAMES, MATERIALS, SIZE_WORDS

    nouns = [info.noun for info in CATEGORIES.values()]
    sizes = [words[0] for words in SIZE_WORDS.values()]
    materials = [info.adjective for info in MATERIALS.values()]
    unknown = ["vintage brass telescope", "medieval iron helmet", "steampunk mechanical owl", "red apples",
               "old leather armchair", "two antique pocket watches", "ceramic garden gnome", "origami crane"]
    prompts = []
    for i in range(count):
        kind = i % 5
        noun = nouns[i % len(nouns)]
        color = COLOR_NAMES[i % len(COLOR_NAMES)]
        if kind == 0:
            prompts.append(f"{sizes[i % len(sizes)]} {color} {noun}")
        elif kind == 1:
            prompts.append(f"{color} {materials[i % len(materials)]} {noun}")
        elif kind == 2:
            prompts.append(f"{color} {noun} and {COLOR_NAMES[(i + 5) % 12]} {nouns[(i + 7) % len(nouns)]}")
        elif kind == 3:
            prompts.append(f"{unknown[i % len(unknown)]} {i}" if i % 2 else unknown[i % len(unknown)])
        else:
            prompts.append(f"three {color} {noun}s")
    return prompts


THINK = ("<think>\nOkay, the user wants a caption for a small blue sailboat. I should describe the hull, "
         "the mast and the sail, keep it under forty words and avoid any background.\n</think>\n\n")
CAPTION = "A small blue sailboat with a white fabric sail, a tall wooden mast and a glossy blue hull."
RAMBLE = ("A small blue sailboat glides across the calm turquoise water of a sheltered bay, its crisp white "
          "sail billowing in the gentle afternoon breeze. Seagulls circle overhead while sunlight sparkles on "
          "the waves, and a coiled rope rests near the bow. The polished wooden deck gleams warmly, and tiny "
          "brass fittings catch the light as the boat rocks softly at anchor near the shore.")
OUTPUTS = [
    THINK + CAPTION,
    "Okay, let me think.</think>\n\n" + CAPTION,
    "Thinking...\nThe user wants a boat.\n...done thinking.\n\n" + CAPTION,
    'Sure! Here\'s a detailed caption for your 3D model:\n\n"' + CAPTION + '"\n\nLet me know if you need more!',
    "**Caption:** " + CAPTION,
    "### Caption\n\n" + CAPTION + " (17 words)",
    "1. " + CAPTION + "\n2. A tiny blue sailboat with a tall mast and crisp white canvas sails.",
    "A small blue sailboat:\n- Hull: glossy blue wood\n- Sail: crisp white canvas\n- Mast: tall pine",
    RAMBLE,
    THINK + RAMBLE,
    "I'm sorry, but I can't help with that request.",
    "Un petit voilier bleu avec une voile blanche et une coque en bois.",
    CAPTION,
]


def naive_rules(prompt: str, output: str) -> tuple[str, bool]:
    """A regex-free baseline: drop text before </think>, cut to 40 words, check words by set lookup."""
    text = output.split("</think>")[-1].strip()
    caption = " ".join(text.split()[:40])
    kept = set(caption.lower().replace(".", " ").replace(",", " ").split())
    return caption, all(word in kept for word in prompt.lower().split())


def main() -> None:
    import logging

    logging.getLogger("text3d").setLevel(logging.ERROR)  # prompts over 6 words would log a warning each
    print(f"one core: {pin_to_one_core()}")
    from text3d.prompts.augment import PromptAugmenter
    from text3d.prompts.rules import apply_rules

    prompts = benchmark_prompts()
    embedded = PromptAugmenter("embedded", cache=False)
    identity = PromptAugmenter("none", cache=False)
    embedded.augment("warm up the tokenizer and the lexicon")

    def run(stage: PromptAugmenter) -> None:
        for seed, prompt in enumerate(prompts):
            stage.augment(prompt, seed)

    emb_s, _ = median_seconds(lambda: run(embedded), repeats=5, warmup=1)
    none_s, _ = median_seconds(lambda: run(identity), repeats=5, warmup=1)
    results = [embedded.augment(p, s) for s, p in enumerate(prompts)]
    passed = sum(r.rules_passed for r in results)
    emb_rate, none_rate = len(prompts) / emb_s, len(prompts) / none_s
    print(f"\n{'augmenter (full stage, 1,000 prompts)':40s} {'median s':>9s} {'prompts/s':>10s} {'vs none':>9s}")
    from text3d.prompts.backends.embedded import MODEL_VERSION

    label = f"embedded ({MODEL_VERSION})"
    print(f"{label:40s} {emb_s:9.4f} {emb_rate:10.0f} {emb_s / none_s:8.2f}x")
    print(f"{'none (identity baseline)':40s} {none_s:9.4f} {none_rate:10.0f} {1.0:8.2f}x")
    print(f"embedded captions passing the rules: {passed}/{len(results)}")
    print(f"target ≥ 1,000 prompts/s on one core: {'PASS' if emb_rate >= 1000 else 'FAIL'} ({emb_rate:.0f})")

    prompt = "small blue sailboat"
    rounds = 50

    def rules() -> None:
        for _ in range(rounds):
            for output in OUTPUTS:
                apply_rules(prompt, output)

    def naive() -> None:
        for _ in range(rounds):
            for output in OUTPUTS:
                naive_rules(prompt, output)

    rules_s, _ = median_seconds(rules, repeats=7)
    naive_s, _ = median_seconds(naive, repeats=7)
    calls = rounds * len(OUTPUTS)
    rules_ms, naive_ms = rules_s / calls * 1000, naive_s / calls * 1000
    print(f"\n{'caption rules':40s} {'ms/caption':>10s} {'vs naive':>9s}")
    print(f"{'apply_rules (clean, trim, CLIP, words)':40s} {rules_ms:10.4f} {rules_ms / naive_ms:8.1f}x")
    print(f"{'naive regex-free baseline':40s} {naive_ms:10.4f} {1.0:8.1f}x")
    print(f"target ≤ 1 ms per caption: {'PASS' if rules_ms <= 1.0 else 'FAIL'} ({rules_ms:.4f} ms)")


if __name__ == "__main__":
    main()
