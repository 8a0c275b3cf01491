"""Quality evaluators: (views of an asset, prompt) → scores per quality dimension, with the
gradients of a score with respect to the prompt's input token embeddings.

Placement: the protocol and registry are here; each backend is one module of
``text3d.eval.evaluators.backends`` that registers one name:

* ``embedded-hyperscore`` — the multidimensional evaluator after MATE-3D's HyperScore (Zhang et
  al., 2024), :mod:`text3d.nn.hyperscore`, trained by ``text3d train evaluator``: alignment,
  geometry, texture and overall, each from 0 to 10;
* ``clip`` — the CLIP-like score 100·cos(view, prompt) averaged over the views, one dimension
  (``alignment``), with the embedded image encoder (default) or CLIP ViT-L/14 (``model=
  "clip-vit-large-patch14"`` or a local folder).

Bias localization (:mod:`text3d.bias`) uses :meth:`Evaluator.prompt_gradients`: for D assets of
one prompt, q = mean over the D assets of one dimension's score, and the result holds ∂q/∂e_i
for every input token embedding e_i of the prompt, with the tokenizer pieces and their character
offsets (:mod:`text3d.eval.evaluators.tokens`).
"""

from text3d.eval.evaluators.base import Evaluator, PromptGradients, create_evaluator, evaluators

__all__ = ["Evaluator", "PromptGradients", "create_evaluator", "evaluators"]
