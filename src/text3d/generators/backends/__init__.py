"""Generator backends; each module registers one name in :data:`text3d.generators.generators`."""
