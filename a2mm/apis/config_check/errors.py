"""The exception of the config check."""

__all__ = ['ConfigError']


class ConfigError(ValueError):
    """A config problem, naming the key and what was expected."""
