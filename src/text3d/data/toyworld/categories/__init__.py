"""One module per category group; each declares its categories and their geometry programs.

Conventions: z up, the object stands on z = 0, its front faces +Y (the yaw-0 camera),
vehicles point along +X; sizes are about one unit (the asset is normalized afterwards).
Later parts paint over earlier ones where they overlap (voxel colors).

The group modules are imported in the order of ``GROUP_MODULES`` (it fixes the categories' class indices);
any other module of this package is imported after them, so a new category is one new file.
"""

import importlib

from text3d.registry import import_submodules

GROUP_MODULES = ("toys", "characters", "vehicles", "furniture", "kitchenware", "buildings", "plants", "tools")
"""The built-in group modules, in the order that fixes their categories' class indices."""

for _group in GROUP_MODULES:
    importlib.import_module(f"{__name__}.{_group}")
import_submodules(__name__)
