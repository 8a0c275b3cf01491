"""Evaluation: metrics (pure functions), the run-folder protocol, reports and comparisons.

* :mod:`text3d.eval.metrics` — FD, KD, CLIP score, R@K, alignment, correlations (numpy only);
* :mod:`text3d.eval.protocol` — ``evaluate_run``: the seeds' protocol on run folders;
* :mod:`text3d.eval.features` — feature extraction with an on-disk cache;
* :mod:`text3d.eval.report`, :mod:`text3d.eval.plots` — report.md / report.html and PNG plots;
* :mod:`text3d.eval.compare` — tables, correlations and figures across systems.
"""
