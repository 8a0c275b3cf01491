"""Generators: a condition (text, or image-encoder tokens) → an Asset; one backend per file."""

from text3d.generators.base import Condition, Generator, GeneratorOutput, create_generator, generators

__all__ = ["Condition", "Generator", "GeneratorOutput", "create_generator", "generators"]
