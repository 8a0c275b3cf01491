"""Multi-view diffusion teachers of score distillation: one interface (:mod:`.base`), one file per backend."""
