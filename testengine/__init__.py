"""testengine: onscreen, timed, invigilated tests for externally assessed knowledge units."""

__version__ = "0.1.0"
