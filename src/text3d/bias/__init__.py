"""Word-level semantic bias of text-to-3D generators ("Multimodal Semantic Bias Mitigation for
Diverse Text-To-3D Generation"): localization and quantization from an evaluator's gradients
with respect to the prompt's token embeddings (:mod:`text3d.bias.localize`,
:mod:`text3d.bias.words`, :mod:`text3d.bias.report`), and mitigation data: context prompts that
keep w_h and w_l (:mod:`text3d.bias.context`, :mod:`text3d.bias.filters`, :mod:`text3d.bias.review`),
their assets ranked into pairs {x_nc, t_n} (:mod:`text3d.bias.visual`), one resumable run
(:mod:`text3d.bias.augment`)."""
