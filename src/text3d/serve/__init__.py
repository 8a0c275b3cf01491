"""``text3d serve``: the REST service (FastAPI) over text3d's run folders.

:mod:`~text3d.serve.jobs` keeps the jobs (bounded queue, worker pool, state on disk),
:mod:`~text3d.serve.app` answers HTTP, :mod:`~text3d.serve.schemas` declares the bodies and
:mod:`~text3d.serve.runner` is the worker process of one job. Import :mod:`text3d.serve.app`
only where FastAPI is needed: this package's ``__init__`` imports nothing.
"""
