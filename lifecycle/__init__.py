"""Customer lifecycle, segment and CLV warehouse: the Python side (generate, import, validate, publish)."""

__version__ = "0.1.0"
