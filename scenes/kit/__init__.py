"""The scene kit: theme, reusable mobjects, verified equations, narration. Import submodules directly,
e.g. ``from scenes.kit.theme import COLORS``."""
