from text3d.data.toyworld.parse import parse_prompt


def test_names_synonyms_and_paraphrases():
    p = parse_prompt("small blue sailboat")
    assert (p.category, p.color, p.size, p.matched_by) == ("sailboat", "blue", "small", "name")
    p = parse_prompt("navy yacht, petite")
    assert (p.category, p.color, p.size, p.matched_by) == ("sailboat", "blue", "small", "synonym")
    assert parse_prompt("a desk lamp").category == "lamp"  # longest phrase wins over "desk" (table)


def test_parts_counts_materials_partner():
    p = parse_prompt("big crimson ceramic teapot with white lid")
    assert (p.category, p.color, p.material, p.size) == ("teapot", "red", "ceramic", "large")
    assert p.part_colors == {"lid": "white"}
    assert parse_prompt("red wooden chair with three legs").counts == {"legs": 3}
    g = parse_prompt("blue sailboat beside red chair")
    assert (g.category, g.color, g.partner, g.partner_color) == ("sailboat", "blue", "chair", "red")


def test_unknown_object_uses_the_nearest_category():
    p = parse_prompt("purple yacht-like dinghy vessel")  # 'yacht-like' is not a name
    assert p.matched_by in ("nearest", "synonym")
    q = parse_prompt("a wooden rowing canoe")
    assert q.matched_by == "nearest" and q.category == "sailboat" and q.similarity > 0.3
