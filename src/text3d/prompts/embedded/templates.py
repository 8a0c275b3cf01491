"""Caption templates of the embedded augmenter (``{a_head}``, ``{head}``, ``{parts}``, ``{objects}``,
``{count}`` are filled in by :mod:`text3d.prompts.embedded.compose`)."""

SINGLE_TEMPLATES = (
    "{a_head} with {parts}; a single object on a plain background.",
    "{a_head} with {parts}, shown as one complete object, centered on a plain background.",
    "{a_head}: {parts}. A single object with clean shapes on a plain background.",
    "{a_head} built from {parts}; one isolated object on a plain background.",
)
PHRASE_TEMPLATES = (
    "{a_head}; it has {parts}. A single object on a plain background.",
    "{a_head}, featuring {parts}; one object shown whole on a plain background.",
)
GROUP_TEMPLATES = (
    "{head}, each with {parts}; a small group of matching objects on a plain background.",
    "{head} standing side by side, each with {parts}, on a plain background.",
)
BARE_TEMPLATES = (
    "{a_head}, one complete object with a clear silhouette; centered on a plain background.",
    "{a_head} shown whole as a single object on a plain background.",
)
GENERIC_TEMPLATES = (
    ("{a_head}, a single object with a clear silhouette, well-defined parts and realistic materials and "
     "colors; centered on a plain background."),
    ("{a_head} shown whole: one object with distinct parts, clean geometry and true-to-life surface colors, "
     "on a plain background."),
    ("{a_head} with accurate proportions, clearly separated parts and realistic surface textures; an "
     "isolated object on a plain background."),
)
GENERIC_GROUP_TEMPLATES = (
    ("{head} side by side, each with a clear silhouette and realistic materials and colors; a small group "
     "on a plain background."),
    ("{head} shown whole as a small group of objects with distinct parts and true-to-life colors, on a plain "
     "background."),
)
MULTI_TEMPLATES = (
    "{objects}; {count} objects side by side on a plain background.",
    "{objects}, arranged as a small group of {count} objects on a plain background.",
)
