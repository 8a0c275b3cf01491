"""Training of the embedded models: ``text3d train encoders`` and ``text3d train generator``."""
