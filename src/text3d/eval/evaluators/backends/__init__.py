"""Evaluator backends: one module per registered name."""
