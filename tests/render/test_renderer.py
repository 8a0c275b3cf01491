import numpy as np
import pytest

from text3d.assets.asset import Asset
from text3d.render.cameras import Camera, protocol_cameras
from text3d.render.renderer import render

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def color_centroid_x(image: np.ndarray, channel: int) -> float:
    """Mean column (0..1) of strongly colored pixels in one channel."""
    rgb = image.astype(int)
    others = [c for c in range(3) if c != channel]
    hit = (rgb[..., channel] > 150) & (rgb[..., others[0]] < 90) & (rgb[..., others[1]] < 90)
    assert hit.sum() > 20, "marker not visible"
    return float(np.nonzero(hit)[1].mean() / image.shape[1])


def test_orientation_convention_cannot_flip(marked_asset):
    """Red ball at +X, green ball at +Y. yaw 0 looks from +Y: +X lands on the image's left.
    yaw 90 looks from +X: +Y lands on the image's right."""
    cams = [Camera(yaw=0, pitch=30, resolution=128), Camera(yaw=90, pitch=30, resolution=128),
            Camera(yaw=180, pitch=30, resolution=128)]
    rgb = render(marked_asset, cams, background="white").rgb
    assert color_centroid_x(rgb[0], 0) < 0.35  # yaw 0: red (+X) on the left
    assert 0.4 < color_centroid_x(rgb[0], 1) < 0.6  # green (+Y) faces the camera
    assert color_centroid_x(rgb[1], 1) > 0.65  # yaw 90: green (+Y) on the right
    assert 0.4 < color_centroid_x(rgb[1], 0) < 0.6  # red (+X) faces the camera
    assert color_centroid_x(rgb[2], 0) > 0.65  # yaw 180: red (+X) on the right


@pytest.mark.parametrize("background,expected", [("black", 0), ("white", 255)])
def test_backgrounds_and_mask(sphere_asset, background, expected):
    result = render(sphere_asset, protocol_cameras("canonical4", 64), background=background)
    assert result.rgb.shape == (4, 64, 64, 3)
    assert np.all(result.rgb[:, 0, 0] == expected)
    assert result.mask[:, 32, 32].all() and not result.mask[:, 0, 0].any()


def test_transparent_background_has_alpha(sphere_asset):
    result = render(sphere_asset, protocol_cameras("canonical4", 64), background="transparent")
    assert result.rgb.shape[-1] == 4
    assert result.rgb[0, 0, 0, 3] == 0 and result.rgb[0, 32, 32, 3] == 255


def test_depth_and_normals_are_geometric(sphere_asset):
    cam = Camera(yaw=30, pitch=10, resolution=128)
    result = render(sphere_asset, [cam], depth=True, normals=True)
    center = result.depth[0, 64, 64]
    assert center == pytest.approx(2.0 - 0.4, abs=0.01)  # camera at r=2, sphere radius 0.4
    view_dir = cam.position() / np.linalg.norm(cam.position())
    assert np.dot(result.normals[0, 64, 64], view_dir) > 0.98
    assert result.depth[0, 0, 0] == 0 and not result.mask[0, 0, 0]


def test_shading_shows_shape(sphere_asset):
    """A uniformly colored sphere must not render as a flat disc."""
    asset = sphere_asset.copy()
    asset.vertex_colors[:] = (0.5, 0.5, 0.5, 1.0)
    rgb = render(asset, [Camera(yaw=0, pitch=30, resolution=128)]).rgb[0].astype(float)
    mask = render(asset, [Camera(yaw=0, pitch=30, resolution=128)]).mask[0]
    assert rgb[mask].std() > 10


def test_antialias_softens_edges(marked_asset):
    cams = protocol_cameras("canonical4", 64)
    hard = render(marked_asset, cams, background="black").rgb
    soft = render(marked_asset, cams, background="black", antialias=True).rgb
    levels = lambda img: len(np.unique(img[..., 0]))  # noqa: E731
    assert levels(soft) > levels(hard)


def test_depth_pass_keeps_the_color_pixels(marked_asset):
    """Colour and normals/depth come from one pass without MSAA: the colour is the plain pass's."""
    cams = protocol_cameras("canonical4", 64)
    for background in ("white", "black", "transparent"):
        plain = render(marked_asset, cams, background=background)
        both = render(marked_asset, cams, background=background, depth=True, normals=True)
        assert np.array_equal(plain.rgb, both.rgb)
        assert np.array_equal(plain.mask, both.mask)
        assert np.all(both.normals[~both.mask] == 0) and np.all(both.depth[~both.mask] == 0)


@pytest.mark.parametrize("kwargs", [{}, {"antialias": True}, {"depth": True, "normals": True},
                                    {"antialias": True, "depth": True}])
def test_views_drawn_in_groups_match_views_drawn_alone(marked_asset, monkeypatch, kwargs):
    import text3d.render.renderer as renderer_module

    cameras = protocol_cameras("clip8", 40)
    monkeypatch.setattr(renderer_module, "GROUP_VIEWS", 3)  # groups of 3, 3 and 2
    grouped = render(marked_asset, cameras, **kwargs)
    for i, camera in enumerate(cameras):
        alone = render(marked_asset, [camera], **kwargs)
        assert np.array_equal(grouped.rgb[i], alone.rgb[0]) and np.array_equal(grouped.mask[i], alone.mask[0])
        for name in ("depth", "normals"):
            if getattr(alone, name) is not None:
                assert np.array_equal(getattr(grouped, name)[i], getattr(alone, name)[0])


def test_specialised_programs_match_the_general_paths(sphere_asset):
    """Each asset gets a program without the parts it does not use; the parts kept compute the
    same pixels: zero vertex normals (the general path's fallback to face normals) render like
    no normals, and a white texture like no texture."""
    import trimesh

    cams = protocol_cameras("canonical4", 64)
    flat = render(sphere_asset, cams)
    zero_normals = sphere_asset.copy()
    zero_normals.vertex_normals = np.zeros_like(sphere_asset.vertices)
    assert np.array_equal(render(zero_normals, cams).rgb, flat.rgb)
    box = trimesh.creation.box((0.5, 0.4, 0.3))
    colors = np.tile([[0.8, 0.3, 0.2, 1.0]], (len(box.vertices), 1))
    plain = Asset(vertices=box.vertices, faces=box.faces, vertex_colors=colors)
    white = Asset(vertices=box.vertices, faces=box.faces, vertex_colors=colors, uv=np.zeros((len(box.vertices), 2)),
                  texture=np.full((8, 8, 3), 255, np.uint8))
    assert white.is_textured
    assert np.array_equal(render(white, cams).rgb, render(plain, cams).rgb)


def test_back_faces_are_skipped_only_where_no_pixel_changes(marked_asset, monkeypatch):
    """Closed outward meshes seen from outside are drawn with back faces culled, to the same
    pixels as drawing every face; open or inverted meshes and cameras inside the bounds are
    drawn two-sided."""
    import trimesh

    import text3d.render.culling as culling
    import text3d.render.renderer as renderer_module

    cams = protocol_cameras("clip8", 64)
    assert not culling.cull_back_faces(marked_asset, cams)  # 652 faces × 8 views: not worth a check
    monkeypatch.setattr(culling, "CULL_MIN_FACE_VIEWS", 0)
    assert culling.cull_back_faces(marked_asset, cams)
    for kwargs in ({}, {"depth": True, "normals": True}, {"antialias": True}):
        culled = render(marked_asset, cams, **kwargs)
        with monkeypatch.context() as patch:
            patch.setattr(renderer_module, "cull_back_faces", lambda asset, cameras: False)
            every_face = render(marked_asset, cams, **kwargs)
        assert np.array_equal(culled.rgb, every_face.rgb) and np.array_equal(culled.mask, every_face.mask)
    inverted = marked_asset.copy()
    inverted.faces = inverted.faces[:, ::-1].copy()
    assert not culling.cull_back_faces(inverted, cams)
    assert np.array_equal(render(inverted, cams).mask, render(marked_asset, cams).mask)
    inside = [Camera(yaw=0.0, pitch=0.0, radius=0.1, resolution=64)]
    assert not culling.cull_back_faces(marked_asset, inside)
    plane = trimesh.creation.box((0.6, 0.6, 0.6))
    open_box = Asset(vertices=plane.vertices, faces=plane.faces[2:])  # one side missing: look inside
    assert not culling.cull_back_faces(open_box, cams)
    front, back = (render(open_box, [Camera(yaw=yaw, pitch=0.0, resolution=64)]) for yaw in (0.0, 180.0))
    assert front.mask.sum() > 0.2 * 64 * 64 and back.mask.sum() > 0.2 * 64 * 64
