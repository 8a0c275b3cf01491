"""One module per category group; each function is one category's geometry program.

Conventions: z up, the object stands on z = 0, its front faces +Y (the yaw-0 camera),
vehicles point along +X; sizes are about one unit (the asset is normalized afterwards).
Later parts paint over earlier ones where they overlap (voxel colors).
"""
