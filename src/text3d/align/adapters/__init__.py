"""The real models of GAP3D's (Gkotsi et al., 2026) aligner stage, loaded offline from Hugging Face folders.

* :mod:`.qwen_vl` — Qwen2.5-VL-3B-Instruct as the frozen VLM: soft tokens → condition C (B, s, 2048);
* :mod:`.dinov2_reg` — DINOv2 with registers (Darcet et al., 2024), ViT-L/14 at 518 px, as the target:
  images → [CLS, 4 registers, 37² patches] (B, 1374, 1024), the tokens TRELLIS-image conditions on,
  and the :class:`~text3d.nn.aligner.AlignerConfig` sizes of any such target.

The embedded instance (MiniLM + text3d's ViT) is :mod:`text3d.align.sampling`. Importing this package
loads neither transformers nor the submodules.
"""
