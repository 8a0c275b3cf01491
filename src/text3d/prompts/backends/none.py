"""``none``: the identity augmenter — the caption is the prompt (the no-augmentation baseline)."""

from __future__ import annotations

from text3d.errors import InputError
from text3d.prompts.base import AugmentRequest, Completion, augmenters


@augmenters.register("none")
class IdentityAugmenter:
    """Returns the prompt unchanged; the rules are checked on it but nothing is cleaned or retried."""

    backend = "none"
    cacheable = False
    identity = True

    def __init__(self, model: str = "") -> None:
        if model:
            raise InputError(f"--llm none:{model}: the identity augmenter takes no model")
        self.model = "identity"

    def propose(self, request: AugmentRequest) -> Completion:
        """The request's prompt as the caption."""
        return Completion(text=request.prompt, model=self.model)
