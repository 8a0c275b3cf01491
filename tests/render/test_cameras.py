import json
import math

import numpy as np
import pytest

from text3d.errors import InputError
from text3d.render.cameras import Camera, cameras_json, protocol_cameras


@pytest.mark.parametrize("yaw,pitch", [(0, 30), (90, 30), (225, -40), (10, 0)])
def test_position_formula_and_look_at(yaw, pitch):
    cam = Camera(yaw=yaw, pitch=pitch, radius=2.0)
    y, p = math.radians(yaw), math.radians(pitch)
    expected = 2.0 * np.array([math.sin(y) * math.cos(p), math.cos(y) * math.cos(p), math.sin(p)])
    assert np.allclose(cam.position(), expected)
    c2w = cam.c2w()
    rot = c2w[:3, :3]
    assert np.allclose(rot.T @ rot, np.eye(3), atol=1e-12) and np.linalg.det(rot) == pytest.approx(1.0)
    assert np.allclose(rot[:, 2], -expected / 2.0)  # OpenCV +z looks at the origin
    assert rot[2, 1] <= 1e-12  # image "down" never points up in the world
    gl = cam.c2w_opengl()
    assert np.allclose(gl[:3, 1], -rot[:, 1]) and np.allclose(gl[:3, 2], -rot[:, 2])


def test_origin_projects_to_image_center():
    cam = Camera(yaw=37, pitch=21, resolution=256)
    world_to_cam = np.linalg.inv(cam.c2w())
    p = world_to_cam @ np.array([0, 0, 0, 1.0])
    uv = cam.intrinsics() @ p[:3]
    assert np.allclose(uv[:2] / uv[2], [128, 128])


def test_protocols_match_design():
    c4 = protocol_cameras("canonical4")
    assert [c.yaw for c in c4] == [0, 90, 180, 270]
    assert all(c.pitch == 30 and c.radius == 2 and c.fov == 40 and c.resolution == 512 for c in c4)
    assert [c.yaw for c in protocol_cameras("clip8")] == [45 * i for i in range(8)]
    d20 = protocol_cameras("depth20")
    dirs = np.stack([c.position() / 2 for c in d20])
    assert len(d20) == 20 and abs(dirs[:, 2].mean()) < 1e-9  # balanced over both hemispheres
    assert np.min([np.linalg.norm(dirs[i] - dirs[j]) for i in range(20) for j in range(i)]) > 0.5
    assert len(protocol_cameras("turntable", frames=12)) == 12
    with pytest.raises(InputError):
        protocol_cameras("nope")


def test_cameras_json_records_every_view():
    cams = protocol_cameras("canonical4", 64)
    doc = json.loads(json.dumps(cameras_json("canonical4", cams, [f"{i:03d}.png" for i in range(4)])))
    assert "opencv" in doc["c2w_convention"]
    view = doc["views"][1]
    assert view["file"] == "001.png" and view["yaw"] == 90 and view["resolution"] == [64, 64]
    assert np.allclose(np.array(view["c2w"]), cams[1].c2w())
