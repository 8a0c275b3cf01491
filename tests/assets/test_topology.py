import numpy as np
import trimesh

from text3d.assets.asset import Asset
from text3d.assets.normals import crease_normals
from text3d.assets.topology import is_closed_outward, weld_ids


def box(center=(0.0, 0.0, 0.0), size=0.3) -> trimesh.Trimesh:
    mesh = trimesh.creation.box((size, size, size))
    mesh.apply_translation(center)
    return mesh


def test_a_closed_outward_solid_is_recognised():
    sphere = trimesh.creation.icosphere(2, radius=0.4)
    assert is_closed_outward(sphere.vertices, sphere.faces)


def test_inverted_open_or_empty_meshes_are_not():
    sphere = trimesh.creation.icosphere(2, radius=0.4)
    assert not is_closed_outward(sphere.vertices, sphere.faces[:, ::-1])  # inward faces
    assert not is_closed_outward(sphere.vertices, sphere.faces[:-1])  # a hole
    flipped_one = sphere.faces.copy()
    flipped_one[0] = flipped_one[0, ::-1]  # closed, one face against its neighbours
    assert not is_closed_outward(sphere.vertices, flipped_one)
    assert not is_closed_outward(np.zeros((0, 3)), np.zeros((0, 3), int))


def test_each_part_must_face_outward():
    """Total volume is not enough: a small inverted part inside a big outward sum is caught."""
    big, small = box(size=0.6), box(center=(0.6, 0, 0), size=0.2)
    both = trimesh.util.concatenate([big, small])
    assert is_closed_outward(both.vertices, both.faces)
    small.invert()
    mixed = trimesh.util.concatenate([big, small])
    assert mixed.volume > 0
    assert not is_closed_outward(mixed.vertices, mixed.faces)


def test_parts_touching_at_a_vertex_or_an_edge_are_judged_apart():
    """Welding joins parts that touch; an inverted part touching an outward one must still
    count as inverted (its volume would otherwise be hidden in the outward one's)."""
    big = box(size=0.6)  # corners at ±0.3
    at_vertex = box(center=(0.4, 0.4, 0.4), size=0.2)  # shares the corner (0.3, 0.3, 0.3)
    at_edge = trimesh.creation.box((0.2, 0.2, 0.6))
    at_edge.apply_translation((0.4, 0.4, 0.0))  # shares the edge x = y = 0.3
    for small in (at_vertex, at_edge):
        joined = trimesh.util.concatenate([big, small])
        assert len(np.unique(weld_ids(joined.vertices))) < len(joined.vertices)  # they touch
        small = small.copy()
        small.invert()
        mixed = trimesh.util.concatenate([big, small])
        assert not is_closed_outward(mixed.vertices, mixed.faces)
    corner = trimesh.util.concatenate([big, at_vertex])
    assert is_closed_outward(corner.vertices, corner.faces)  # both outward, one vertex shared


def test_vertices_split_at_creases_are_welded_by_position():
    cube = box(size=0.5)
    vertices, faces, _, _ = crease_normals(cube.vertices, cube.faces)
    assert len(vertices) == 24  # every corner split three ways: the index graph is open
    assert not is_closed_outward(vertices, faces[:, [0, 1, 2]][:-1])
    assert is_closed_outward(vertices, faces)
    ids = weld_ids(Asset(vertices=vertices, faces=faces).vertices)
    assert len(np.unique(ids)) == 8
    # positions one float32 step apart are different vertices
    nudged = np.asarray(vertices, np.float32).copy()
    nudged[0, 2] = np.nextafter(nudged[0, 2], np.float32(1))
    assert len(np.unique(weld_ids(nudged))) == 9
