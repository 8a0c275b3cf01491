"""Context prompts: the filters (words up to inflection, length, MiniLM consistency and diversity),
retries with a scripted backend, the real embedded augmenter, and the review file round trip."""

import json

import numpy as np
import pytest

from text3d.bias.context import ACCEPT, REJECT, ContextSettings, ContextWriter, create_backend
from text3d.bias.filters import FilterBounds, check_candidate, has_word, missing_words, sentence_vectors
from text3d.bias.review import read_review, review_rows, write_review
from text3d.errors import InputError
from text3d.prompts.base import Completion

PROMPT = "teal truck with gray cargo box"
KEEP = ["teal", "box"]
GOOD = "a teal truck with a gray cargo box parked at a dusty loading dock"
OTHER = "a teal toy truck carrying a wooden box across a sandbox in the garden"


class Scripted:
    """An augmenter backend that answers from a list, and records what it was asked."""

    backend, model, cacheable, identity = "scripted", "v1", False, False

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []

    def propose(self, request):
        self.requests.append(request)
        return Completion(text=self.answers.pop(0))


def test_words_count_up_to_inflection_and_a_missing_word_rejects():
    assert has_word("leg", "a chair with four legs")
    assert has_word("legs", "a chair with one leg")
    assert has_word("wood", "a wooden chair")
    assert has_word("toy-like", "a toy-like red car")
    assert not has_word("toy-like", "a toy car that I like")  # the parts must be a run
    assert not has_word("box", "a teal truck")
    assert missing_words(["teal", "box", "teal"], "a teal truck with boxes") == []
    assert missing_words(["teal", "box"], "a blue truck with boxes") == ["teal"]
    report = check_candidate("a gray truck with a cargo box parked at a dock", PROMPT, KEEP, [])
    assert report.missing == ["teal"] and report.reasons == ["words"] and not report.accepted


def test_length_bounds():
    short = check_candidate("teal box", PROMPT, KEEP, [])
    assert "length" in short.reasons and short.words == 2
    long = check_candidate(GOOD + " " + " ".join(["under a wide sky"] * 8), PROMPT, KEEP, [])
    assert long.words > 40 and "length" in long.reasons
    assert check_candidate(GOOD, PROMPT, KEEP, []).passed["length"]


def test_consistency_follows_the_minilm_cosine_and_its_bound():
    vectors = sentence_vectors([GOOD, PROMPT, "a teal beach towel beside a box of seashells"])
    report = check_candidate(GOOD, PROMPT, KEEP, [])
    assert report.consistency == pytest.approx(float(vectors[0] @ vectors[1]), abs=1e-5)
    off_topic = check_candidate("a teal beach towel beside a box of seashells", PROMPT, KEEP, [])
    assert off_topic.consistency < report.consistency
    strict = FilterBounds(min_consistency=report.consistency + 0.01, max_similarity=0.99)
    assert check_candidate(GOOD, PROMPT, KEEP, [], strict).reasons == ["consistency"]
    loose = FilterBounds(min_consistency=report.consistency - 0.01, max_similarity=0.99)
    assert check_candidate(GOOD, PROMPT, KEEP, [], loose).accepted


def test_near_duplicates_are_dropped_by_the_diversity_bound():
    near = GOOD.replace("dusty", "sandy")
    report = check_candidate(near, PROMPT, KEEP, [GOOD])
    assert report.similarity > 0.9 and report.reasons == ["diversity"]
    assert check_candidate(OTHER, PROMPT, KEEP, [GOOD]).passed["diversity"]
    # the prompt itself is in the diversity set: a bare copy of it is no context
    assert "diversity" in check_candidate("a teal truck with a gray cargo box", PROMPT, KEEP, []).reasons


def test_retries_until_the_filters_pass_and_the_model_is_told_why():
    backend = Scripted(["a gray truck with a cargo box at a dock", "teal box", GOOD,
                        GOOD, OTHER])  # slot 1 first repeats slot 0's context
    writer = ContextWriter(backend, ContextSettings(k=2, max_retries=3, seed=10))
    result = writer.write(PROMPT, "teal", "box")
    assert result.kept == [GOOD, OTHER]
    assert [(c["slot"], c["attempt"], c["auto"]) for c in result.candidates] == [
        (0, 0, REJECT), (0, 1, REJECT), (0, 2, ACCEPT), (1, 0, REJECT), (1, 1, ACCEPT)]
    assert result.candidates[0]["report"]["reasons"] == ["words"]
    assert result.candidates[1]["report"]["reasons"] == ["length"]
    assert result.candidates[3]["report"]["reasons"] == ["diversity"]
    assert [(r.seed, r.attempt) for r in backend.requests] == [(10, 0), (10, 1), (10, 2), (11, 0), (11, 1)]
    retry = backend.requests[1].messages[-1]["content"]
    assert retry.startswith("That answer was not usable: it dropped the word 'teal'")
    assert "had 2 words" in backend.requests[2].messages[-1]["content"]
    assert GOOD in backend.requests[3].messages[1]["content"]  # slot 1 is shown what slot 0 wrote
    assert "teal, box" in backend.requests[0].messages[1]["content"]


def test_an_answer_that_repeats_the_instructions_is_no_context():
    """SmolLM2-135M answered a retry by restating it; that holds both words and the object, so only the
    echo filter refuses it. A context repeating the prompt's own words, or an earlier context, is no echo."""
    echo = f"That answer was not usable: it had 51 words; write another context for {PROMPT} in a garage"
    backend = Scripted(["teal box", echo, GOOD, GOOD.replace("loading dock", "quiet harbour"), OTHER])
    writer = ContextWriter(backend, ContextSettings(k=2, max_retries=3, seed=10))
    result = writer.write(PROMPT, "teal", "box")
    assert result.kept[0] == GOOD
    assert [c["report"]["reasons"] for c in result.candidates[:3]] == [["length"], ["echo"], []]
    assert "it repeated these instructions" in backend.requests[2].messages[-1]["content"]
    assert result.candidates[1]["report"]["passed"] == {"words": True, "length": True, "consistency": True,
                                                        "diversity": True, "echo": False}
    # the system prompt's words are instructions too; the first user message's "contexts already written" are not
    stated = check_candidate("a teal cargo box in a setting, a use, a style or a moment", PROMPT, KEEP, [],
                             instructions=[writer_system_prompt()])
    assert "echo" in stated.reasons
    assert "echo" not in result.candidates[3]["report"]["reasons"]  # shares "a teal truck with a gray cargo box"


def writer_system_prompt() -> str:
    from text3d.bias.context import SYSTEM_PROMPT

    return SYSTEM_PROMPT.format(max_words=40)


def test_a_slot_gives_up_after_its_retries_and_slots_are_bounded():
    backend = Scripted(["no words here at all"] * 8)
    result = ContextWriter(backend, ContextSettings(k=1, max_retries=1)).write(PROMPT, "teal", "box", max_slots=3)
    assert result.kept == [] and result.slots == 3 and len(backend.requests) == 6


def test_real_embedded_augmenter_keeps_both_words_and_diverse_contexts():
    writer = ContextWriter(create_backend("embedded"), ContextSettings(k=2, max_retries=3))
    result = writer.write("chair with red legs", "chair", "legs")
    texts = [c["text"] for c in result.candidates]
    assert len(set(texts)) > 1 and all(has_word("leg", t) and has_word("chair", t) for t in texts)
    assert 1 <= len(result.kept) <= 2 and result.backend == "embedded"
    vectors = sentence_vectors(result.kept + ["chair with red legs"])
    similarity = vectors @ vectors.T
    assert np.all(similarity[np.triu_indices(len(vectors), 1)] < 0.90)
    for candidate in result.candidates:
        assert (candidate["auto"] == ACCEPT) == (candidate["report"]["reasons"] == [])
    with pytest.raises(InputError, match="identity backend"):
        create_backend("none")


@pytest.mark.parametrize("name", ["review.json", "review.csv"])
def test_review_round_trip_and_its_decisions_override_the_filters(tmp_path, name):
    backend = Scripted([GOOD, "a gray truck with a cargo box at a dock", "a gray truck at a dock", OTHER,
                        "a teal delivery truck hauling a gray cargo box of apples through an orchard"])
    writer = ContextWriter(backend, ContextSettings(k=2, max_retries=1))
    first = writer.write(PROMPT, "teal", "box").to_dict()
    assert first["kept"] == [GOOD, OTHER] and first["slots"] == 3  # slot 1 failed both its tries
    path = tmp_path / name
    write_review(path, review_rows([first], {}))
    assert read_review(path) == {}  # nothing decided yet
    rows = json.loads(path.read_text()) if name.endswith(".json") else None
    if rows is None:
        import csv

        rows = list(csv.DictReader(path.open()))
    assert [r["auto"] for r in rows] == [ACCEPT, REJECT, REJECT, ACCEPT]
    for row in rows:  # the person rejects one accepted context and accepts one the filters rejected
        row["review"] = {GOOD: "reject", "a gray truck at a dock": "Accept"}.get(row["context"], "")
    write_review(path, rows)
    decisions = read_review(path)
    assert decisions == {(PROMPT, GOOD): "reject", (PROMPT, "a gray truck at a dock"): "accept"}
    # the next run: GOOD dropped, the accepted one kept although it fails the filters, no new slot needed
    again = writer.write(PROMPT, "teal", "box", previous=first, review=decisions)
    assert again.kept == ["a gray truck at a dock", OTHER] and len(backend.requests) == 4
    # rejecting one more makes the next run ask a new slot
    decisions[(PROMPT, OTHER)] = "reject"
    third = writer.write(PROMPT, "teal", "box", previous=again.to_dict(), review=decisions)
    assert third.slots == 4 and third.kept[-1].startswith("a teal delivery truck")


def test_bad_review_files_are_one_line_errors(tmp_path):
    bad = tmp_path / "r.json"
    bad.write_text(json.dumps([{"prompt": PROMPT, "context": GOOD, "review": "maybe"}]))
    with pytest.raises(InputError, match="row 1 has review 'maybe'") as caught:
        read_review(bad)
    assert "\n" not in str(caught.value)
    (tmp_path / "r2.json").write_text("{not json")
    with pytest.raises(InputError, match="not JSON"):
        read_review(tmp_path / "r2.json")
    with pytest.raises(InputError, match=".json or .csv"):
        read_review(tmp_path / "r.txt")
    (tmp_path / "r.csv").write_text("prompt,text\nx,y\n")
    with pytest.raises(InputError, match="lacks context, review"):
        read_review(tmp_path / "r.csv")
    precious = tmp_path / "precious.json"  # a JSON list that is not a review file is never taken for one
    precious.write_text('[{"name": "my precious data", "value": 42}]')
    with pytest.raises(InputError, match="not a review file"):
        read_review(precious)
    (tmp_path / "d.json").mkdir()
    with pytest.raises(InputError, match="is a folder"):
        read_review(tmp_path / "d.json")


def test_a_spreadsheets_csv_with_a_byte_order_mark_and_crlf_is_read(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("prompt,context,auto,reasons,review\r\n".encode("utf-8-sig")
                     + f"{PROMPT},{GOOD},accept,,reject\r\n".encode())
    assert read_review(path) == {(PROMPT, GOOD): "reject"}


def test_a_decision_that_matches_no_candidate_is_kept_and_marked(tmp_path):
    backend = Scripted([GOOD, OTHER])
    first = ContextWriter(backend, ContextSettings(k=2, max_retries=0)).write(PROMPT, "teal", "box").to_dict()
    edited = (PROMPT, GOOD.replace(" ", "  ", 1))  # a person fixed the text, then rejected it
    rows = review_rows([first], {edited: "reject", (PROMPT, OTHER): "accept"})
    assert [(r["context"], r["auto"], r["review"]) for r in rows] == [
        (GOOD, ACCEPT, ""), (OTHER, ACCEPT, "accept"), (edited[1], "unmatched", "reject")]
    write_review(tmp_path / "r.json", rows)
    assert read_review(tmp_path / "r.json")[edited] == "reject"  # the decision survives the rewrite


def test_bounds_are_measured_on_the_development_range_only():
    from text3d.bias.bounds import measure_bounds

    with pytest.raises(ValueError, match="leave the development range"):
        measure_bounds(n=46, first_seed=1_899_999)  # the 46th item is seed 1,900,000
    with pytest.raises(ValueError, match="leave the development range"):
        measure_bounds(n=10, first_seed=1_900_000)
