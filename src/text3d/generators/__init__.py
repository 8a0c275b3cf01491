"""Generators: a condition (text, or image-encoder tokens) → an Asset; one backend per file."""

from text3d.generators.base import Condition, Generator, GeneratorOutput, generators, load_generator

__all__ = ["Condition", "Generator", "GeneratorOutput", "generators", "load_generator"]
