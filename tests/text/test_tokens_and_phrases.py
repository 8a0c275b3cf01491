"""Word counts, the three tokenizers, articles and phrase lists."""

from text3d.text import (
    MAX_CAPTION_WORDS,
    MAX_PROMPT_WORDS,
    article,
    hyphenated_words,
    join_phrases,
    prompt_tokens,
    with_article,
    word_count,
    words,
)


def test_the_word_limits_of_the_protocol():
    assert (MAX_PROMPT_WORDS, MAX_CAPTION_WORDS) == (6, 40)


def test_a_word_holds_a_letter_or_digit():
    assert word_count("A red hull. Parts - hull: red wood; 3 sails") == 9  # "-" is no word
    assert word_count("") == 0 and word_count("  ...  ") == 0


def test_each_tokenizer_keeps_what_its_reader_needs():
    assert words("The boat's red T-shirt, 3D!") == ["the", "boat", "red", "t", "shirt", "3d"]
    assert prompt_tokens("sailboat, crimson;huge") == ["sailboat", ",", "crimson", ";", "huge"]
    assert hyphenated_words("A Mid-size T-shirt o'clock") == ["a", "mid-size", "t-shirt", "o'clock"]


def test_article_follows_the_sound_of_the_first_word():
    assert [article(w) for w in ("owl", "unicorn", "hour glass", "boat", "umbrella", "orange cab")] == \
        ["an", "a", "an", "a", "an", "an"]
    assert with_article("eagle") == "an eagle" and with_article("European car") == "a European car"


def test_phrases_join_with_commas_and_a_final_and():
    assert join_phrases([]) == "" and join_phrases(["a mast"]) == "a mast"
    assert join_phrases(("a mast", "a hull")) == "a mast and a hull"
    assert join_phrases(["a", "b", "c"]) == "a, b and c"
