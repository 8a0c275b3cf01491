"""The web app of ``text3d serve``: a static page on three.js, served at ``/`` by the same process.

The page (``static/``: HTML and ES modules written for text3d) submits prompts, follows each
job's progress, shows the GLB in an orbiting three.js viewer and lists a job's run folder as a
gallery with its evaluation report. three.js comes from npm (``package.json`` and
``package-lock.json`` here; ``scripts/setup.sh`` runs ``npm ci``); ``node_modules`` is never
committed.
"""

from text3d.serve.web.routes import mount_web

__all__ = ["mount_web"]
