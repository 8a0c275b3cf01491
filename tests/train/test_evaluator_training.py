"""``text3d train evaluator`` end to end at toy size: samples whose levels match their degradation, a
killed run that resumes from its checkpoint, a weights folder the ``embedded-hyperscore`` backend
loads, figures and a model card with the command."""

import json

import numpy as np
import pytest
import torch

import text3d.train.evaluator as evaluator_training
from text3d.eval.evaluators.backends.hyperscore import HyperScoreEvaluator, load_network
from text3d.train.evaluator import train_evaluator
from text3d.train.evaluator_config import EvaluatorTrainConfig
from text3d.train.evaluator_data import SampleSpec, build_samples
from text3d.train.loop import optimizer_step

torch.set_num_threads(1)


def test_samples_have_levels_that_match_their_degradation():
    samples = build_samples(SampleSpec(n=8, base_seed=1_000_000, clean=0.25), None, workers=1, progress=False)
    assert samples.images.shape == (8, 4, 64, 64, 6) and samples.images.dtype == np.uint8
    covered = samples.images[..., :3].min(-1) < 250  # not the white background
    normals = samples.images[..., 3:].astype(np.float64) / 127.5 - 1.0
    assert np.median(normals[covered][:, 2]) > 0.3  # camera-space normals face the camera (+z)
    assert np.median(np.abs(normals[~covered])) < 0.01  # background (most white pixels): n = 0, encoded 128
    for kind, levels in zip(samples.kinds, samples.levels):
        lowered = {d for d, v in zip(("alignment", "geometry", "texture"), levels[:3]) if v < 10}
        expected = {"none": set(), "category": {"alignment"}, "color": {"alignment"}, "part": {"alignment"},
                    "noise": {"geometry"}, "holes": {"geometry"}, "blob": {"geometry"},
                    "washed": {"texture"}, "shuffled": {"texture"}}[kind]
        assert lowered == expected, kind
        assert levels[3] == pytest.approx(levels[:3].mean(), rel=1e-6)


_LOWERS = {"category": "alignment", "color": "alignment", "part": "alignment", "noise": "geometry",
           "holes": "geometry", "blob": "geometry", "washed": "texture", "shuffled": "texture"}


def test_composite_samples_lower_each_dimension_their_kinds_name_and_no_other():
    samples = build_samples(SampleSpec(n=10, base_seed=1_000_000, composite=0.6, voxel=0.0), None, workers=1,
                            progress=False)
    counts = []
    for kind, levels in zip(samples.kinds, samples.levels):
        kinds = [] if kind == "none" else kind.split("+")
        lowered = {d for d, v in zip(("alignment", "geometry", "texture"), levels[:3]) if v < 10}
        assert lowered == {_LOWERS[k] for k in kinds} and len(kinds) == len(lowered), kind
        assert levels[3] == pytest.approx(levels[:3].mean(), rel=1e-6)
        counts.append(len(kinds))
    assert max(counts) >= 2  # several flaws at once, which single degradations never give
    assert SampleSpec(n=10).key() != SampleSpec(n=10, composite=0.6).key()


def test_single_degradation_samples_keep_the_random_stream_they_had_before_composite_ones():
    from text3d.train.evaluator_data import make_sample

    spec = SampleSpec(n=8, base_seed=1_000_000, clean=0.2, voxel=0.0, generated=0.0)
    drawn = [(s["kind"], round(s["strength"], 4)) for s in (make_sample(i, spec) for i in range(8))]
    assert drawn == [("washed", 0.383), ("color", 1.0), ("category", 1.0), ("shuffled", 0.6083), ("none", 0.0),
                     ("noise", 0.7759), ("part", 1.0), ("washed", 0.374)]  # as made before composite samples


def test_composite_kinds_count_towards_each_of_their_kinds():
    from types import SimpleNamespace

    from text3d.train.evaluator import kind_means

    samples = SimpleNamespace(kinds=np.array(["noise+washed", "noise", "none"]))
    predicted = np.array([[1.0, 2.0], [3.0, 4.0], [9.0, 9.0]])
    means = kind_means(predicted, samples, ("alignment", "geometry"))
    assert means["noise"] == {"alignment": 2.0, "geometry": 3.0}
    assert means["washed"] == {"alignment": 1.0, "geometry": 2.0} and means["none"]["geometry"] == 9.0


def test_toy_training_resumes_and_writes_a_loadable_evaluator_with_its_card(tmp_path, monkeypatch, interrupt_at):
    config = EvaluatorTrainConfig(items=4, dev_items=0, test_items=4, steps=3, batch=4, width=16, depth=1,
                                  workers=1, checkpoint_every=2)
    interrupt_at(evaluator_training, "optimizer_step", 3)
    with pytest.raises(KeyboardInterrupt):
        train_evaluator(tmp_path, config, progress=False)
    assert torch.load(tmp_path / "evaluator.pt", weights_only=False)["step"] == 2
    monkeypatch.setattr(evaluator_training, "optimizer_step", optimizer_step)
    figures = train_evaluator(tmp_path, config, progress=False)  # resumes at step 2: one step left
    assert set(figures["test"]["spearman"]) == {"alignment", "geometry", "texture", "overall"}
    assert "test range" in figures["test"]["seeds"]
    # composite by default: the one-degradation test samples are scored too, for the older protocol
    assert set(figures["test-single"]["spearman"]) == set(figures["test"]["spearman"])
    folder = tmp_path / "evaluator"
    saved = json.loads((folder / "config.json").read_text())
    assert saved["training"]["command"].startswith("text3d train evaluator --out DIR --seed 0 --items 4")
    card = (folder / "README.md").read_text()
    assert "Spearman" in card and "text3d train evaluator" in card and "one degradation per sample" in card
    assert not (tmp_path / "evaluator.pt").exists()  # the checkpoint goes once training is done
    steps = [json.loads(line).get("step") for line in (tmp_path / "train_log.jsonl").open()]
    assert steps == [None, 0, None, 2]  # data, step 0, [killed], data again, the last step only
    evaluator = HyperScoreEvaluator(network=load_network(folder), device="cpu")
    views = np.full((1, 4, 64, 64, 6), 255, np.uint8)
    scores = evaluator.score(list(views), ["red chair"])
    assert scores.shape == (1, 4) and bool(((scores >= 0) & (scores <= 10)).all())


def test_ranking_term_is_lower_for_scores_in_the_order_of_the_levels():
    levels = torch.tensor([[10.0, 10.0, 2.0, 22 / 3], [4.0, 6.0, 10.0, 20 / 3], [7.0, 3.0, 6.0, 16 / 3]])
    weights = torch.tensor([1.0, 2.0, 1.0, 1.0])
    ordered, reversed_ = 5 + 0.1 * (levels - 5), 5 - 0.1 * (levels - 5)

    def rank_term(scores):
        loss = evaluator_training.evaluator_loss
        return float(loss(scores, levels, weights, 1.0) - loss(scores, levels, weights, 0.0))

    assert 0 < rank_term(ordered) < rank_term(reversed_)
    same = levels[:1].expand(3, -1)  # no pair differs by more than 0.5: MSE only
    assert float(evaluator_training.evaluator_loss(same + 1, same, weights, 1.0)) == pytest.approx(0.01)


def test_the_shipped_evaluator_scores_each_degradation_lower_on_its_own_dimension():
    """Development-range samples: the shipped weights give the clean assets a higher mean score than
    the strongly degraded ones, in each degradation's dimension (the order Spearman ρ measures)."""
    evaluator = HyperScoreEvaluator(device="cpu")
    assert evaluator.normal_maps
    samples = build_samples(SampleSpec(n=90, base_seed=1_000_000, clean=0.25, voxel=0.0, generated=0.0), None,
                            workers=1, progress=False)
    scores = evaluator.score(list(samples.images), samples.texts.tolist())
    columns = {"alignment": ("category", "color"), "geometry": ("blob",), "texture": ("washed", "shuffled")}
    clean = samples.kinds == "none"
    for column, (dimension, kinds) in enumerate(columns.items()):
        degraded = np.isin(samples.kinds, kinds) & (samples.strengths > 0.5)  # strong ones (alignment: 1)
        assert degraded.any() and clean.any()
        assert scores[clean, column].mean() > scores[degraded, column].mean() + 0.5, dimension


def test_generated_samples_show_the_embedded_generators_asset_at_level_10():
    from text3d.train.evaluator_data import make_sample

    # generated = 1e-12 draws the same numbers (same cameras) but keeps the toyworld mesh
    toy = make_sample(0, SampleSpec(n=1, base_seed=1_000_000, clean=1.0, voxel=0.0, generated=1e-12))
    generated = make_sample(0, SampleSpec(n=1, base_seed=1_000_000, clean=1.0, voxel=0.0, generated=1.0))
    assert generated["text"] == toy["text"] and generated["kind"] == "none"
    np.testing.assert_array_equal(generated["levels"], np.full(4, 10.0, np.float32))
    changed = np.abs(generated["images"][..., :3].astype(int) - toy["images"][..., :3].astype(int)).mean()
    assert changed > 2.0  # another asset: the generator's, not the toyworld mesh


def test_an_evaluator_trained_on_see_through_views_renders_see_through_views(sphere_asset):
    network = load_network()  # the shipped one: two-sided views
    assert not HyperScoreEvaluator(network=network, device="cpu").see_through
    network.config.see_through = True
    evaluator = HyperScoreEvaluator(network=network, device="cpu")
    assert evaluator.see_through
    holed = sphere_asset.copy()
    holed.faces = sphere_asset.faces[sphere_asset.vertices[sphere_asset.faces].mean(axis=1)[:, 2] < 0.3]
    white = (evaluator.render_views(holed)[..., :3] >= 254).all(-1).sum()
    evaluator.see_through = False
    assert white > (evaluator.render_views(holed)[..., :3] >= 254).all(-1).sum() + 20  # through the +z hole


def test_stated_samples_remove_only_named_parts_and_keep_the_other_samples():
    from text3d.data.toyworld.degrade import states
    from text3d.data.toyworld.instance import make_instance, part_texts
    from text3d.train.evaluator_data import built_categories, item_spec, make_sample

    spec = SampleSpec(n=40, base_seed=1_000_000, voxel=0.0, composite=0.5, stated=True)
    plain = SampleSpec(n=40, base_seed=1_000_000, voxel=0.0, composite=0.5)
    assert spec.key() != plain.key() and plain.key() == SampleSpec(n=40, base_seed=1_000_000, voxel=0.0,
                                                                   composite=0.5, stated=False).key()
    rows = [(i, make_sample(i, spec)) for i in range(40)]
    flawed = [(i, r) for i, r in rows if "part" in r["kind"].split("+") or "color" in r["kind"].split("+")]
    assert len(flawed) >= 5
    for i, row in flawed:  # the text names the wrong main color, or a part that could go missing
        instance = make_instance(*item_spec(i, spec.base_seed, built_categories()))
        if "color" in row["kind"].split("+"):
            assert states(row["text"], instance.obj.attributes["main_color"]) and row["levels"][0] == 4.0
        else:
            names = [p.name for p in part_texts(instance.obj)][1:]
            assert any(states(row["text"], n) for n in names) and row["levels"][0] == 7.0
    unflawed = [i for i, r in rows if not set(r["kind"].split("+")) & {"part", "color", "category"}]
    for i in unflawed[:4]:  # samples without an alignment flaw are the same sample either way
        np.testing.assert_array_equal(make_sample(i, plain)["images"], dict(rows)[i]["images"])
    assert states("chair with black legs", "leg") and not states("a blackish chair", "black")


def test_an_evaluator_trained_with_back_normals_renders_them(sphere_asset):
    network = load_network()  # the shipped one was trained with them
    network.config.back_normals = False
    assert not HyperScoreEvaluator(network=network, device="cpu").back_normals
    network.config.back_normals = True
    evaluator = HyperScoreEvaluator(network=network, device="cpu")
    holed = sphere_asset.copy()
    holed.faces = sphere_asset.faces[sphere_asset.vertices[sphere_asset.faces].mean(axis=1)[:, 2] < 0.3]

    def away(views: np.ndarray) -> int:  # pixels with camera-space n_z < −0.3
        return int(((views[..., 5].astype(int) - 128) < -40).sum())

    kept = away(evaluator.render_views(holed))
    evaluator.back_normals = False
    assert kept > away(evaluator.render_views(holed)) + 20  # the sphere's inside, seen through the +z hole
    from text3d.nn.hyperscore import HyperScoreConfig

    assert HyperScoreConfig.from_dict({k: v for k, v in network.config.to_dict().items()
                                       if k != "back_normals"}).back_normals is False  # folders from before


def test_text_swaps_give_another_categorys_text_alignment_1_and_the_mean_overall():
    texts = np.array(["red ball", "blue chair", "green tree", "red ball beside green tree", "pink duck"])
    categories = np.array(["ball", "chair", "tree", "ball", "duck"])
    kinds = np.array(["none", "noise", "category", "washed", "none"])
    levels = torch.tensor([[10, 10, 10, 10], [10, 4, 10, 8], [1, 10, 10, 7], [10, 10, 4, 8], [10, 10, 10, 10]],
                          dtype=torch.float32)
    index = np.array([0, 1, 2, 3, 4, 0, 1, 3])
    before = levels.clone()
    swapped, targets = evaluator_training.swap_texts(texts, levels, kinds, categories, index, 1.0,
                                                     np.random.default_rng(0))
    assert targets.shape == (8, 4) and torch.equal(levels, before)  # the source levels are left as they were
    for row, item in enumerate(index):
        if kinds[item] == "category":  # already another category's object: its text stays
            assert swapped[row] == texts[item] and torch.equal(targets[row], levels[item])
            continue
        donor = int(np.flatnonzero(texts == swapped[row])[0])
        assert categories[donor] != categories[item]
        assert categories[donor] not in texts[item] and categories[item] not in texts[donor]  # no partner named
        assert targets[row, 0] == 1.0 and torch.equal(targets[row, 1:3], levels[item, 1:3])
        assert targets[row, 3] == pytest.approx(float(targets[row, :3].mean()))
    unchanged, same = evaluator_training.swap_texts(texts, levels, kinds, categories, index, 0.0,
                                                    np.random.default_rng(0))
    assert unchanged == texts[index].tolist() and torch.equal(same, levels[index])


def test_twins_are_the_same_views_without_the_geometry_and_texture_flaws():
    from text3d.train.evaluator_data import make_sample

    common = {"n": 12, "base_seed": 1_000_000, "voxel": 0.0, "composite": 0.5, "generated": 0.0}
    twinned, plain = SampleSpec(**common, twins=True), SampleSpec(**common)
    assert twinned.key() != plain.key() and plain.key() == SampleSpec(**common, twins=False).key()
    seen, texture_only = set(), 0
    for i in range(12):
        row, same = make_sample(i, twinned), make_sample(i, plain)
        np.testing.assert_array_equal(row["images"], same["images"])  # the random stream is unchanged
        kinds = set(row["kind"].split("+")) - {"none"}
        other = kinds - {"category", "color", "part"}
        assert (row["twin"] is None) == (not other), row["kind"]
        if other:
            seen |= other
            assert row["twin"].shape == row["images"].shape and (row["twin"] != row["images"]).any()
            if other <= {"washed", "shuffled"}:  # a texture flaw alone: the same surface (shuffling subdivides it)
                normals = np.abs(row["twin"][..., 3:].astype(int) - row["images"][..., 3:].astype(int))
                assert normals.mean() < 0.05  # (a silhouette pixel may flip)
                texture_only += 1
    assert seen & {"washed", "shuffled"} and seen & {"noise", "holes", "blob"} and texture_only
    samples = build_samples(twinned, None, workers=1, progress=False)
    has = samples.twin_index >= 0
    assert len(samples.twins) == has.sum() and (samples.twin_index[has] == np.arange(has.sum())).all()


def test_twin_batch_keeps_the_alignment_and_clears_the_other_flaws():
    from types import SimpleNamespace

    from text3d.train.evaluator import twin_batch

    samples = SimpleNamespace(twin_index=np.array([-1, 0, 1, -1, 2]))
    levels = torch.tensor([[10.0, 4.0, 10.0, 8.0], [4.0, 10.0, 2.0, 16 / 3], [7.0, 6.0, 10.0, 23 / 3],
                           [1.0, 10.0, 10.0, 7.0], [10.0, 10.0, 4.0, 8.0]])
    index = np.array([1, 0, 4, 2])
    rows, twin = twin_batch(samples, index, levels[index], limit=2)
    assert rows.tolist() == [0, 2]  # batch rows with a twin, at most ``limit``
    torch.testing.assert_close(twin, torch.tensor([[4.0, 10.0, 10.0, 8.0], [10.0, 10.0, 10.0, 10.0]]))


def test_toy_training_with_twins_and_a_finer_grid(tmp_path):
    config = EvaluatorTrainConfig(items=12, dev_items=0, test_items=4, steps=2, batch=6, width=16, depth=1,
                                  workers=1, generated_fraction=0.0, twin_weight=1.0, grid=4)
    train_evaluator(tmp_path, config, progress=False)
    assert list((tmp_path / "cache").glob("twin-tokens-*-g4.pt"))
    network = load_network(tmp_path / "evaluator")
    assert network.config.grid == 4 and network.view_pos.shape[1] == 1 + 16 + 16
    saved = json.loads((tmp_path / "evaluator" / "config.json").read_text())["training"]
    assert "--twin-weight 1.0" in saved["command"] and "--grid 4" in saved["command"]


def test_part_share_draws_missing_parts_more_often_for_training_samples_only():
    from collections import Counter

    from text3d.train.evaluator_data import _composite_plan

    def kinds(share: float) -> Counter:
        rng = np.random.default_rng(0)
        return Counter(_composite_plan(rng, 1.0, share)["alignment"][0] for _ in range(3000))

    even, parts = kinds(0.0), kinds(0.5)
    assert all(abs(even[k] / 3000 - 1 / 3) < 0.03 for k in ("category", "color", "part"))
    assert abs(parts["part"] / 3000 - 0.5) < 0.03 and abs(parts["color"] / 3000 - 0.25) < 0.03
    assert SampleSpec(n=4, part_share=0.0).key() == SampleSpec(n=4).key() != SampleSpec(n=4, part_share=0.5).key()
    from text3d.train.evaluator import sample_specs

    specs = sample_specs(EvaluatorTrainConfig(part_share=0.5, twin_weight=1.0))
    assert specs["train"].part_share == 0.5 and specs["train"].twins
    held_out = sample_specs(EvaluatorTrainConfig())
    assert all(specs[name] == held_out[name] for name in ("dev", "test", "test-single"))  # the same protocol


def test_a_finished_evaluator_is_not_replaced_by_other_settings(tmp_path, capsys):
    from text3d.cli import main

    out = tmp_path / "e"
    args = ["train", "evaluator", "--out", str(out), "--items", "4", "--dev-items", "0", "--test-items", "0",
            "--steps", "1", "--batch", "2", "--width", "16", "--depth", "1", "--workers", "1"]
    assert main(args) == 0
    weights = (out / "evaluator" / "model.safetensors").read_bytes()
    assert main([*args, "--grid", "4"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds an evaluator trained with other settings (grid differ)" in err[0]
    assert (out / "evaluator" / "model.safetensors").read_bytes() == weights
    assert main(args) == 0  # the same settings go ahead


def test_generated_items_caps_generated_samples_and_keeps_the_rest_of_each_sample(monkeypatch):
    from text3d.train import evaluator_data
    from text3d.train.evaluator import sample_specs

    calls = []

    from text3d.data.toyworld.instance import make_instance

    def fake_generated(prompt, seed):  # the real one runs the embedded generator (~0.7 s)
        calls.append(seed)
        return make_instance("mug", 0).scene().to_asset()

    monkeypatch.setattr(evaluator_data, "generated_asset", fake_generated)
    every = SampleSpec(n=8, generated=1.0, composite=0.5, stated=True, back_normals=True)
    capped = SampleSpec(n=8, generated=1.0, composite=0.5, stated=True, back_normals=True, generated_below=2)
    for index in (0, 1):
        before = len(calls)
        evaluator_data.make_sample(index, capped)
        assert len(calls) == before + 1  # below the cap: built on the generator's asset
    uncapped_calls = 0
    for index in range(2, 6):
        calls.clear()
        a = evaluator_data.make_sample(index, capped)
        assert not calls  # past the cap: never the generator's asset
        b = evaluator_data.make_sample(index, every)
        assert a["text"] == b["text"] and a["kind"] == b["kind"] and np.array_equal(a["levels"], b["levels"])
        uncapped_calls += len(calls)
    assert uncapped_calls >= 2  # without the cap the same samples do use it
    assert SampleSpec(n=4, generated_below=0).key() == SampleSpec(n=4).key() != SampleSpec(n=4, generated_below=2).key()
    specs = sample_specs(EvaluatorTrainConfig(generated_items=9000))
    assert specs["train"].generated_below == 9000
    held_out = sample_specs(EvaluatorTrainConfig())
    assert all(specs[name] == held_out[name] for name in ("dev", "test", "test-single"))
