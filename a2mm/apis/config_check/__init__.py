"""Check a config before anything is built or read (``tools/train.py`` and
``tools/test.py`` call :func:`check_config`); see :mod:`.check` for what
is checked, in which order, and which module checks it."""
from .check import check_config
from .errors import ConfigError

__all__ = ['ConfigError', 'check_config']
