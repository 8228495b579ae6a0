"""a2mm's MMEngine loops (as ``mmaction.engine.runner``); importing this
package registers them in MMAction2's ``LOOPS``."""
from .amp_loops import AmpTestLoop, AmpValLoop

__all__ = ['AmpTestLoop', 'AmpValLoop']
