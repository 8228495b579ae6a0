"""What a2mm adds to MMEngine's runner: hooks (:mod:`.hooks`: fault
tolerance, docs/robustness.md; a visualisation hook for multi-view tests),
mixed precision loops (:mod:`.runner`) and optim wrapper (:mod:`.optimizers`)
(docs/train_test.md). Importing it registers them."""
from . import hooks, optimizers, runner  # noqa: F401  (registers them)
