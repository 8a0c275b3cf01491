"""Token attributions summed to words, with several pieces per word (WordPiece, CLIP BPE and the
real all-MiniLM-L6-v2 tokenizer), and the choice of w_h / w_l among content words."""

import numpy as np
import pytest

from text3d.bias.words import aggregate_words, extreme_words, word_spans
from text3d.eval.evaluators.tokens import piece_offsets


def test_wordpiece_pieces_sum_into_their_words():
    text = "A teapot with snowmen"
    pieces = ["[CLS]", "a", "tea", "##pot", "with", "snow", "##men", "[SEP]"]
    offsets = piece_offsets(text, pieces)
    assert offsets == [(0, 0), (0, 1), (2, 5), (5, 8), (9, 13), (14, 18), (18, 21), (0, 0)]
    words = aggregate_words(text, pieces, offsets, [9.0, 1.0, 2.0, 3.0, 0.5, 4.0, 0.25, 7.0])
    assert [(w.word, w.value, w.pieces) for w in words] == [
        ("A", 1.0, ("a",)), ("teapot", 5.0, ("tea", "##pot")), ("with", 0.5, ("with",)),
        ("snowmen", 4.25, ("snow", "##men"))]  # specials ([CLS] 9, [SEP] 7) belong to no word
    assert [w.content for w in words] == [False, True, False, True]
    high, low = extreme_words(words)
    assert (high.word, low.word) == ("teapot", "snowmen")  # "with" and "A" are function words


def test_clip_bpe_pieces_and_punctuation():
    text = "Toy-like café, 3 wheels!"
    pieces = ["<|startoftext|>", "toy</w>", "-</w>", "like</w>", "cafe</w>", ",</w>", "3</w>", "whe", "els</w>",
              "!</w>", "<|endoftext|>"]
    offsets = piece_offsets(text, pieces)
    words = aggregate_words(text, pieces, offsets, np.arange(len(pieces), dtype=float))
    assert [w.word for w in words] == ["Toy-like", "café", "3", "wheels"]
    assert [w.value for w in words] == [1 + 2 + 3, 4, 6, 7 + 8]  # "-" joins the hyphenated word; "," and "!" dropped
    assert words[3].pieces == ("whe", "els</w>")


def test_real_minilm_tokenizer_splits_words_and_offsets_cover_them():
    from text3d.eval.evaluators.minilm_text import minilm_tokenizer

    text = "a snowman-shaped teapot with unicycles"
    pieces = [p for p in minilm_tokenizer().encode(text).tokens if p != "[PAD]"]  # the file pads to 128
    offsets = piece_offsets(text, pieces)
    words = aggregate_words(text, pieces, offsets, np.ones(len(pieces)))
    assert [w.word for w in words] == ["a", "snowman-shaped", "teapot", "with", "unicycles"]
    assert any(len(w.pieces) > 1 for w in words if w.word != "snowman-shaped")  # a word of several pieces
    assert sum(w.value for w in words) == len(pieces) - 2  # every piece but [CLS] and [SEP] counted once
    for piece, (start, end) in zip(pieces[1:-1], offsets[1:-1]):
        assert text[start:end].lower() == piece.removeprefix("##")


def test_ties_pick_the_first_and_prompts_of_function_words_fall_back_to_all_words():
    words = aggregate_words("the and", ["the", "and"], [(0, 3), (4, 7)], [1.0, 1.0])
    high, low = extreme_words(words)
    assert high.word == low.word == "the"
    assert extreme_words([]) == (None, None)
    assert word_spans("") == []


def test_lengths_must_agree():
    with pytest.raises(ValueError, match="differ in length"):
        aggregate_words("chair", ["chair"], [(0, 5)], [1.0, 2.0])


def test_grouped_prompts_never_pick_the_preposition_to():
    # "next to" in toyworld's grouped prompts: "to" carries gradient but is no content word
    text = "red chair next to blue table"
    spans = word_spans(text)
    words = aggregate_words(text, [text[s:e] for s, e in spans], spans, [0.5, 0.4, 0.3, 0.05, 0.2, 0.6])
    high, low = extreme_words(words)
    assert (high.word, low.word) == ("table", "blue")


def test_multi_word_prepositions_are_not_content_words_but_their_words_elsewhere_are():
    text = "blue car next to a spinning top on top of the chair"
    spans = word_spans(text)
    pieces = [text[s:e].lower() for s, e in spans]
    values = [5.0, 4.0, 0.1, 0.1, 0.0, 3.0, 2.5, 0.2, 0.05, 0.2, 0.0, 1.0]
    words = aggregate_words(text, pieces, spans, values)
    content = [w.word for w in words if w.content]
    assert content == ["blue", "car", "spinning", "top", "chair"]  # "next" and the second "top" are not
    high, low = extreme_words(words)
    assert (high.word, low.word) == ("blue", "chair")  # not "next" (0.1) nor "top" of "on top of" (0.05)
