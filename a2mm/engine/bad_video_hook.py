"""Moved to :mod:`a2mm.engine.hooks.bad_video_hook` (one hook per file under
``a2mm/engine/hooks/``; ``enable_skip_bad_videos`` is in
:mod:`a2mm.apis.config_edits`).

This alias keeps ``a2mm.engine.bad_video_hook`` importing; new code imports
the new path.
"""
from a2mm.engine.hooks.bad_video_hook import *  # noqa: F401,F403
from a2mm.apis.config_edits import enable_skip_bad_videos  # noqa: F401
