"""Rendering: camera protocols, the offscreen renderer, depth → point clouds, previews."""

from text3d.render.cameras import PROTOCOLS, Camera, protocol_cameras

__all__ = ["Camera", "PROTOCOLS", "protocol_cameras"]
