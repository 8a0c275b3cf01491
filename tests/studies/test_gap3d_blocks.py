"""GAP3D's share bars on several blocks: the summary's arithmetic, and two blocks end to end."""

import json

import pytest
import torch

from text3d.errors import InputError
from text3d.nn.checkpoint import resolve_model_folder
from text3d.studies.gap3d import ROWS
from text3d.studies.gap3d_blocks import BLOCK_ROWS, block_summary, blocks_markdown, evaluate_blocks


def test_block_summary_judges_the_share_bars_on_the_block_means():
    def block(text_r1, stage2_r1):
        return {"image-to-3d": {"clip_user": 48.0, "r_at_1": 80.0},
                "text-to-3d": {"clip_user": 50.0, "r_at_1": text_r1},
                "gap3d-stage2": {"clip_user": 45.0, "r_at_1": stage2_r1}}
    summary = block_summary([block(90.0, 72.0), block(80.0, 72.0)])  # shares 0.80 and 0.90
    r1 = summary["rows"]["gap3d-stage2"]["r_at_1"]
    assert r1["blocks"] == [72.0, 72.0] and r1["mean"] == 72.0 and r1["sem"] == 0.0
    text = summary["rows"]["text-to-3d"]["r_at_1"]
    assert text["mean"] == 85.0 and text["sem"] == pytest.approx(5.0)  # s = 7.07, / √2
    share = summary["bars"]["r_at_1_share"]
    assert share["value"] == pytest.approx(72 / 85) and not share["pass"]  # 0.847: the means, not a block
    assert share["per_block"] == pytest.approx([0.8, 0.9])
    assert summary["bars"]["clip_user_share"]["pass"]  # 45 / 50 = 0.9
    assert block_summary([block(80.0, 68.0), block(80.0, 69.0)])["bars"]["r_at_1_share"]["pass"]  # 68.5 / 80
    table = blocks_markdown({"n": 2, "blocks": ["a", "b"], **summary})
    assert "| gap3d-stage2 | 45.00 / 72.0 | 45.00 / 72.0 | 45.00 ± 0.00 | 72.00 ± 0.00 |" in table
    assert "r_at_1_share: 0.847 (≥ 0.85; per block 0.800, 0.900) — FAIL" in table


def test_blocks_repeat_the_bar_rows_on_consecutive_seeds(tmp_path):
    folders = {"stage 1": resolve_model_folder(None, "aligner-stage1"),
               "stage 2": resolve_model_folder(None, "aligner-stage2")}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rows = [r for r in ROWS if r.name in BLOCK_ROWS]
        both = evaluate_blocks(tmp_path, 1_000_000, 2, 2, folders, steps=2, resolution=32, rows=rows)
    finally:
        torch.set_num_threads(threads)
    second = tmp_path / "blocks" / "seed-1000002"
    assert sorted(p.name for p in (second / "runs").iterdir()) == sorted(["reference", *BLOCK_ROWS])
    seeds = [json.loads(line)["seed"] for line in (second / "runs" / "reference" / "manifest.jsonl").open()]
    assert seeds == [1_000_002, 1_000_003]
    stored = json.loads((tmp_path / "gap3d_3d_blocks.json").read_text())
    assert stored["rows"]["text-to-3d"]["r_at_1"]["blocks"] == [
        both["first_block"]["metrics"]["text-to-3d"]["r_at_1"],
        json.loads((second / "gap3d_3d.json").read_text())["metrics"]["text-to-3d"]["r_at_1"]]
    assert (tmp_path / "gap3d_3d_blocks.md").read_text().startswith("Blocks of n = 2: ")
    with pytest.raises(InputError, match="--blocks 2: the blocks. seeds 1,899,998–1,900,001"):
        evaluate_blocks(tmp_path / "x", 1_899_998, 2, 2, folders, rows=rows)
    with pytest.raises(ValueError, match="gap3d-stage2"):
        evaluate_blocks(tmp_path / "y", 1_000_000, 2, 2, folders, rows=rows[:2])
