"""status_mib and reset_peak_rss: the peak resident memory of a step."""
import mmap
import os

import pytest

from a2mm.utils.proc_memory import reset_peak_rss, status_mib

pytestmark = pytest.mark.skipif(
    not os.path.exists('/proc/self/clear_refs'),
    reason='needs Linux /proc to read peak memory')


def test_peak_after_reset_measures_one_allocation():
    reset_peak_rss()
    before = status_mib('VmRSS')
    assert status_mib('VmHWM') - before < 16
    # 64 MiB of fresh pages (an anonymous map: no reuse of freed heap),
    # every page touched, then unmapped
    block, chunk = mmap.mmap(-1, 64 * 2**20), b'x' * 2**20
    for _ in range(64):
        block.write(chunk)
    block.close()
    assert 60 < status_mib('VmHWM') - before < 96
    reset_peak_rss()  # the peak forgets the unmapped block
    assert status_mib('VmHWM') - status_mib('VmRSS') < 16


def test_unknown_key_is_named():
    with pytest.raises(KeyError, match='VmNope'):
        status_mib('VmNope')
