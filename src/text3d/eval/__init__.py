"""Evaluation: metrics, the run-folder protocol, typed results, reports and comparisons.

Data flows one way: ``protocol`` computes an ``EvaluationResult`` (``results``) and the caller
hands it to ``report``; neither imports the other.

* :mod:`text3d.eval.metrics` — FD, KD, CLIP score, R@K, alignment, correlations (numpy only);
* :mod:`text3d.eval.registry` — one entry per metric: key, inputs, compute function, columns,
  direction (:mod:`text3d.eval.metric_inputs`: what the entries read);
* :mod:`text3d.eval.protocol` — ``evaluate_run``: the papers' protocol on run folders;
* :mod:`text3d.eval.results` — ``EvaluationResult`` and metrics.json's layout;
* :mod:`text3d.eval.features` — feature extraction with an on-disk cache;
* :mod:`text3d.eval.report`, :mod:`text3d.eval.tables`, :mod:`text3d.eval.plots` — metrics.json,
  report.md / report.html, per_item.csv and PNG plots;
* :mod:`text3d.eval.compare` — tables, correlations and figures across systems.
"""
