"""Benchmark: where one prompt's localization time goes (``text3d bias localize``, D assets): the
embedded generator's D assets, their evaluator views, and the evaluator's score gradient with
respect to the prompt's token embeddings; the shipped evaluator against a baseline evaluator folder
(e.g. earlier weights) in this process. Medians over toyworld development prompts.

    .venv/bin/python benchmarks/bench_localize.py [--prompts 8] [--samples 4] [--baseline FOLDER]
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    from text3d.data.toyworld.instance import DEV_SEEDS, item_spec, make_instance
    from text3d.data.toyworld.vocabulary import built_categories
    from text3d.eval.evaluators.backends.hyperscore import HyperScoreEvaluator, load_network
    from text3d.generators.base import Condition, create_generator

    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--baseline", default=None, help="Evaluator folder to compare with (default: none).")
    args = parser.parse_args()
    programs = built_categories()
    prompts = [make_instance(*item_spec(i, DEV_SEEDS.start, programs)).prompt for i in range(args.prompts)]
    generator = create_generator("embedded", device="cpu")
    evaluators = {"shipped": HyperScoreEvaluator(network=load_network(None), device="cpu")}
    if args.baseline:
        evaluators["baseline"] = HyperScoreEvaluator(network=load_network(args.baseline), device="cpu")
    seconds: dict[str, list[float]] = {"generate": [], "views": [], **{f"gradient ({k})": [] for k in evaluators}}
    for prompt in prompts:
        start = time.perf_counter()
        assets = [generator.generate(Condition(prompt), seed=s).asset for s in range(args.samples)]
        seconds["generate"].append(time.perf_counter() - start)
        start = time.perf_counter()
        views = [evaluators["shipped"].render_views(a) for a in assets]
        seconds["views"].append(time.perf_counter() - start)
        for name, evaluator in evaluators.items():
            start = time.perf_counter()
            evaluator.prompt_gradients(views, prompt, "overall")
            seconds[f"gradient ({name})"].append(time.perf_counter() - start)
    medians = {k: statistics.median(v) for k, v in seconds.items()}
    for name, value in medians.items():
        print(f"{name:22s} {value:7.3f} s a prompt (D = {args.samples}, median of {len(prompts)})")
    total = medians["generate"] + medians["views"] + medians["gradient (shipped)"]
    print(f"{'total':22s} {total:7.3f} s a prompt: {100 * total / 60:.1f} min for 100 prompts (bar 5)")
    if "gradient (baseline)" in medians:
        print(f"gradient shipped / baseline: {medians['gradient (shipped)'] / medians['gradient (baseline)']:.2f}×")


if __name__ == "__main__":
    main()
