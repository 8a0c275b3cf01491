"""The localization table's CSV, HTML page and heat-map mark w_h and w_l by their place in the prompt."""

import csv
import io

from text3d.bias.report import csv_text, html_page, write_heatmap


def _row(prompt, values, w_h_start, w_l_start):
    words, start = [], 0
    for word, value in zip(prompt.split(), values):
        words.append({"word": word, "start": start, "end": start + len(word), "attribution": value,
                      "content": word not in ("a", "beside", "the")})
        start += len(word) + 1
    by_start = {w["start"]: w["word"] for w in words}
    return {"prompt": prompt, "q_l": 5.0, "q_g": 5.0, "bias": 0.0, "words": words, "w_h": by_start[w_h_start],
            "w_l": by_start[w_l_start], "w_h_start": w_h_start, "w_l_start": w_l_start}


def test_a_repeated_word_is_marked_and_valued_only_where_it_was_chosen(tmp_path):
    # "red" occurs twice: the second (start 22) is w_l at 37.1, the first has 67.6
    row = _row("a red chair beside a red table", [5.0, 67.6, 90.0, 4.0, 3.0, 37.1, 50.0], 6, 21)
    assert row["w_l"] == "red" and row["words"][5]["start"] == 21
    table = {"prompts": [row], "settings": {"backend": "b", "evaluator": "e", "dimension": "overall", "samples": 1,
                                            "seed": 0}, "q_g": 5.0}
    first = next(csv.DictReader(io.StringIO(csv_text(table))))
    assert (first["w_h"], first["w_h_attribution"], first["w_l"], first["w_l_attribution"]) == (
        "chair", "90.0", "red", "37.1")
    page = html_page(table)
    assert page.count("text-decoration:underline") == 2  # chair and the second red, not the first red
    assert 'title="67.6" style="background:rgba(200,30,30,0.68)">red' in page
    write_heatmap(row, tmp_path / "h.png")
    assert (tmp_path / "h.png").stat().st_size > 0
