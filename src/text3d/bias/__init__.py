"""Word-level semantic bias of text-to-3D generators ("Multimodal Semantic Bias Mitigation for
Diverse Text-To-3D Generation"): localization and quantization from an evaluator's gradients
with respect to the prompt's token embeddings (:mod:`text3d.bias.localize`,
:mod:`text3d.bias.words`, :mod:`text3d.bias.report`)."""
