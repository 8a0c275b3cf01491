"""GAP3D (Gkotsi et al., 2026): generative alignment of a language model's latents to an image
encoder's dense tokens (CLS, registers, patch grid), which then condition an image-conditioned
3D generator in place of a real image's tokens. This package holds the stage's data (the
two-stage curriculum's image–text pairs) and its sampling; the networks live in
:mod:`text3d.nn.aligner` and :mod:`text3d.nn.soft_prompt`."""
