"""This process's resident memory, read from Linux's ``/proc`` (for the
peak-memory probes of ``tools/analysis/benchmark_block.py`` and the tests).

``/proc/self/status`` gives the current resident set (``VmRSS``) and its
peak (``VmHWM``); writing ``5`` to ``/proc/self/clear_refs`` resets the peak
to the current size (Linux's ``proc(5)``), so the peak after a step minus
the resident set before it is the memory the step needed.
"""

__all__ = ['status_mib', 'reset_peak_rss']


def status_mib(key: str) -> float:
    """A size from ``/proc/self/status`` in MiB, e.g. ``status_mib('VmHWM')``.

    Raises:
        KeyError: ``key`` is not a line of ``/proc/self/status``.
    """
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) / 1024  # the kernel writes kB
    raise KeyError(f'{key!r} is not in /proc/self/status')


def reset_peak_rss() -> None:
    """Reset the peak resident set size (``VmHWM``) to the current one."""
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')
