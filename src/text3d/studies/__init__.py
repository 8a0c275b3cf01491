"""Measurement studies above the pipeline: the generator study (a backend against the procedural
ground truth) and the embedded encoders' study on held-out toyworld.

Studies sit above generators and eval (they run both), beside runs and train. They measure on
toyworld's held-out seeds (:mod:`text3d.data.toyworld.instance`): rules, thresholds, K and similar
settings are chosen on training or development seeds and words only; reported figures come from
the test range [1,900,000, 2,000,000), whose paraphrases use words no rule was chosen on.
"""
