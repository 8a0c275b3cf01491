"""GAP3D's alignment tables: the App. C formulas, retrieval recall, and the study on a tiny aligner."""

import json

import numpy as np
import pytest
import torch

from tests.train.test_aligner import TINY, FakePair, FakePairs
from text3d.errors import InputError
from text3d.studies.aligner import (
    alignment_seeds,
    evaluate_aligners,
    group_alignment,
    retrieval_figure,
    retrieval_recall,
    tables_markdown,
    top_matches,
    twin_reference,
    write_tables,
)
from text3d.train.run_aligner import train_aligner


def test_group_alignment_follows_the_formulas():
    x = torch.randn(3, 5, 8, generator=torch.Generator().manual_seed(0))
    same = group_alignment(x, x)
    assert same["cos"] == pytest.approx(1.0) and same["mse"] == 0.0 and same["norm_ratio"] == pytest.approx(1.0)
    doubled = group_alignment(2 * x, x)
    assert doubled["cos"] == pytest.approx(1.0) and doubled["norm_ratio"] == pytest.approx(2.0)
    assert doubled["mse"] == pytest.approx(float((x.double() ** 2).mean()))
    flipped = group_alignment(-x, x)
    assert flipped["cos"] == pytest.approx(-1.0)
    assert flipped["mse"] == pytest.approx(4 * float((x.double() ** 2).mean()))
    e1, e2 = torch.tensor([[[1.0, 0.0]]]), torch.tensor([[[0.0, 3.0]]])
    assert group_alignment(e1, e2) == pytest.approx({"cos": 0.0, "mse": 5.0, "norm_ratio": 1 / 3})


def test_retrieval_recall_ranks_each_querys_own_row():
    database = torch.eye(12)
    assert retrieval_recall(database, database) == {"r_at_1": 100.0, "r_at_5": 100.0, "r_at_10": 100.0}
    shifted = torch.roll(database, 1, dims=0)  # query i looks exactly like row i - 1
    recall = retrieval_recall(shifted, database)
    assert recall["r_at_1"] == 0.0 and recall["r_at_10"] == 100.0  # 11 rows tie at 0, its own among them
    picked = retrieval_recall(database[[3, 7]], database, rows=torch.tensor([3, 0]))  # query 2's own row is 0
    assert picked["r_at_1"] == 50.0 and picked["r_at_10"] == 100.0
    among_two = retrieval_recall(database[:2, :2], database[:2, :2])  # R@5 / R@10 among 2 rows cannot fail
    assert among_two == {"r_at_1": 100.0, "r_at_5": None, "r_at_10": None}


def test_seeds_must_be_held_out_and_in_one_range():
    with pytest.raises(InputError, match="held-out"):
        alignment_seeds(5, 10)
    with pytest.raises(InputError, match="one range"):
        alignment_seeds(1_899_995, 10)
    with pytest.raises(InputError, match=r"^--seed 1999995 --n 10: the last pair's seed 2,000,004 is past"):
        alignment_seeds(1_999_995, 10)
    assert alignment_seeds(1_900_000, 10)["range"] == "test"
    assert alignment_seeds(1_999_990, 10)["range"] == "test"


def test_study_writes_both_tables_for_each_stage(tmp_path):
    torch.set_num_threads(1)
    train_aligner(tmp_path / "run", TINY, pair_source=FakePairs(), progress=False)
    folder = tmp_path / "run" / "aligner-stage1"
    result = evaluate_aligners({"stage 1": folder, "again": folder}, 1_900_000, 6, steps=2, pair_source=FakePairs(),
                               figures=tmp_path / "figures")
    assert set(result["rows"]) == {"stage 1", "again"} and result["seeds"]["range"] == "test"
    for row in result["rows"].values():
        assert set(row) == {"general", "objects"}
        for domain in row.values():
            assert set(domain["alignment"]) == {"cls", "registers", "patches"}
            assert 0.0 < domain["alignment"]["patches"]["norm_ratio"] and domain["alignment"]["cls"]["mse"] > 0
            assert set(domain["retrieval"]) == {"cls", "pooled_patches"}
            assert all(-1.0 <= domain["alignment"][g]["sample_cos"] < 1.0 for g in domain["alignment"])
            recall = domain["retrieval"]["cls"]
            assert 0.0 <= recall["r_at_1"] <= recall["r_at_5"] <= 100.0 and recall["r_at_10"] is None  # among 6
    assert result["rows"]["stage 1"] == result["rows"]["again"]  # seeded sampling
    json_path, md_path = write_tables(result, tmp_path / "out")
    assert json.loads(json_path.read_text())["n"] == 6
    assert md_path.read_text() == tables_markdown(result) and "**Table 2**" in md_path.read_text()
    assert "**Spread**" in md_path.read_text() and " — |" in md_path.read_text()  # R@10 among 6: not defined
    for row in result["rows"].values():  # top-4 by generated CLS, own rank consistent with R@1
        top = row["objects"]["top"]
        assert len(top) == 6 and all(len(t) == 4 for t in top)
        hits = sum(t[0] == i for i, t in enumerate(top))
        assert hits <= round(row["objects"]["retrieval"]["cls"]["r_at_1"] * 6 / 100)
    assert sorted(p.name for p in (tmp_path / "figures").glob("*.png")) == [
        "retrieval_again_general.png", "retrieval_again_objects.png",
        "retrieval_stage1_general.png", "retrieval_stage1_objects.png"]


def test_top_matches_and_the_retrieval_figure_frame_the_own_image_green():
    database = torch.eye(5)
    queries = database.clone()
    queries[1] = database[2]  # query 1 finds image 2 first
    top = top_matches(queries, database, k=2)
    assert top[0, 0] == 0 and top[1, 0] == 2 and top.shape == (5, 2)
    images = np.full((5, 8, 8, 3), 40, np.uint8)
    figure = retrieval_figure(images, ["a red chair"] * 5, top.tolist(), [0], cell=16)
    green = (figure[..., 1] > 150) & (figure[..., 0] < 50)
    assert green.any()  # query 0's own image is retrieved first: framed green
    missed = retrieval_figure(images, ["a"] * 5, [[1, 2]] * 5, [0], cell=16)
    assert not ((missed[..., 1] > 150) & (missed[..., 0] < 50)).any()


def test_calibration_brings_norm_ratios_to_one_on_its_pairs_and_keeps_cosines(tmp_path):
    import shutil

    from text3d.align.sampling import TokenAligner, sampling_settings, write_sampling
    from text3d.encoders.embedded import EmbeddedImageEncoder
    from text3d.studies.aligner import calibrate_aligner, evaluate_aligner, held_out_pairs

    torch.set_num_threads(1)
    train_aligner(tmp_path / "run", TINY, pair_source=FakePairs(), progress=False)
    folder = tmp_path / "aligner"
    shutil.copytree(tmp_path / "run" / "aligner-stage1", folder)
    assert sampling_settings(folder)["token_scale"] is None  # the trainer writes the neutral block
    with pytest.raises(InputError, match="development seeds"):
        calibrate_aligner(folder, 1_900_000, 4, steps=2, pair_source=FakePairs())
    sampling = calibrate_aligner(folder, 1_000_000, 4, steps=2, pair_source=FakePairs(), temperature=0.5)
    assert sampling["steps"] == 2 and sampling["temperature"] == 0.5 and sampling["chosen_on"]["domain"] == "general"
    data = held_out_pairs(1, range(1_000_000, 1_000_004), EmbeddedImageEncoder.from_pretrained(None), FakePairs())
    before = evaluate_aligner(folder, data, steps=2, temperature=0.5)
    frozen = evaluate_aligner(folder, data, steps=2, temperature=0.0)  # no noise: every sample alike
    for group in ("cls", "registers", "patches"):
        assert frozen["alignment"][group]["sample_cos"] == pytest.approx(1.0, abs=1e-6)
        assert before["alignment"][group]["sample_cos"] < 0.999
    write_sampling(folder, sampling)
    assert TokenAligner.from_pretrained(folder).steps == 2 and TokenAligner.from_pretrained(folder).temperature == 0.5
    after = evaluate_aligner(folder, data)
    for group in ("cls", "registers", "patches"):
        assert after["alignment"][group]["norm_ratio"] == pytest.approx(1.0, abs=1e-4)
        assert after["alignment"][group]["cos"] == pytest.approx(before["alignment"][group]["cos"], abs=1e-6)
        assert before["alignment"][group]["norm_ratio"] != pytest.approx(1.0, abs=1e-3)
    # per-group guidance: calibrated with, kept in the block, dropped by a given cfg alone
    split = calibrate_aligner(folder, 1_000_000, 4, steps=2, pair_source=FakePairs(), group_cfg={"cls": 5.0})
    assert split["group_cfg"] == {"cls": 5.0} and split["token_scale"]["cls"] != sampling["token_scale"]["cls"]
    write_sampling(folder, split)
    assert TokenAligner.from_pretrained(folder).group_cfg == {"cls": 5.0}
    assert TokenAligner.from_pretrained(folder, cfg=2.0).group_cfg is None
    assert TokenAligner.from_pretrained(folder, cfg=2.0, group_cfg={"patches": 1.0}).group_cfg == {"patches": 1.0}
    with pytest.raises(InputError, match="unknown token group pixels"):
        TokenAligner.from_pretrained(folder, group_cfg={"pixels": 2.0})


class DistinctPairs(FakePairs):
    """FakePairs whose images differ for any six consecutive seeds: FakePairs' repeat every 3 seeds,
    and a twin query would then tie with another object's identical image in retrieval."""

    def __call__(self, stage, seeds, resolution=64):
        for pair in super().__call__(stage, seeds, resolution):
            image = pair.image.copy()
            image[resolution // 2:, : resolution // 2] = 40 * (pair.seed % 6)  # a gray quadrant per seed
            yield FakePair(image, pair.caption, pair.seed, pair.captions)


def test_the_twin_reference_scores_each_object_against_its_twin_only_where_one_exists():
    from text3d.encoders.embedded import EmbeddedImageEncoder
    from text3d.studies.aligner import held_out_pairs

    encoder = EmbeddedImageEncoder.from_pretrained(None)
    seeds = list(range(1_900_000, 1_900_006))
    data = held_out_pairs(2, seeds, encoder, DistinctPairs())
    own = {p.seed: p for p in DistinctPairs()(2, seeds, resolution=encoder.config.image_size)}
    identical = twin_reference(data, seeds, encoder, lambda seed: [own[seed]] if seed % 2 else [])
    assert (identical["objects"], identical["of"]) == (3, 6)
    for group in identical["alignment"].values():
        assert group["cos"] == pytest.approx(1.0, abs=1e-5) and group["norm_ratio"] == pytest.approx(1.0, abs=1e-4)
    assert identical["retrieval"]["cls"]["r_at_1"] == 100.0
    other = twin_reference(data, seeds, encoder, lambda seed: [own[seeds[0] + (seed - seeds[0] + 1) % 6]])
    assert other["objects"] == 6 and other["alignment"]["patches"]["cos"] < 0.999
    with pytest.raises(InputError, match="twin"):
        twin_reference(data, seeds, encoder, lambda seed: [])
