"""What the tests share, one module per job (``from tests.helpers.data
import write_video``; setup.cfg puts the repository root on ``sys.path``).
Fixtures built from them live in ``tests/conftest.py``.

- :mod:`~tests.helpers.data`: videos (all written by the package's one
  writer, :func:`a2mm.datasets.digit_clips.write_video`), annotation lists,
  label maps, and videos broken on purpose;
- :mod:`~tests.helpers.configs`: the tiny A² recognizer config, configs
  for runs on tiny generated data, and model-only configs for FLOPs;
- :mod:`~tests.helpers.models`: checkpoints, heads with known scores, a
  trained plain I3D for the A² model fine-tuned from it, and
  compiled-versus-eager training steps;
- :mod:`~tests.helpers.tools`: the repository root, scripts under
  ``tools/`` loaded as modules or run as subprocesses;
- :mod:`~tests.helpers.hostile_checkpoints`: a corpus of hostile and broken
  checkpoint files.

Run in other processes: :mod:`~tests.helpers.fault_inject` (imported by a
training subprocess through its config's ``custom_imports``) and
:mod:`~tests.helpers.hostile_driver` (``python -m
tests.helpers.hostile_driver``).
"""
