"""Fixtures shared by the whole suite."""
import copy

import pytest
from mmengine.registry import DefaultScope


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
