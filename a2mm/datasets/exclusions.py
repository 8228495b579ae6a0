"""Read the report of ``tools/data/check_videos.py`` (or the failure report
of ``tools/data/resize_videos.py``) so that the list builders
(``tools/data/build_*_lists.py --exclude``) can leave the files it names out.

Report format: one bad video per line, ``<path>\\t<reason>``, where
``<path>`` is relative to the video root the checker was given; lines
starting with ``#`` are comments.
"""
from typing import Optional, Set

__all__ = ['read_exclusions']


def read_exclusions(report: Optional[str]) -> Set[str]:
    """Paths listed in a ``check_videos.py`` report (empty without one).

    Raises:
        ValueError: a line has no tab-separated reason (names file and line).
    """
    if report is None:
        return set()
    paths = set()
    with open(report, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip('\r\n')
            if not line or line.startswith('#'):
                continue
            path, sep, _ = line.partition('\t')
            if not sep:
                raise ValueError(
                    f'{report}, line {number}: expected '
                    f'"<path>\\t<reason>", got {line!r}')
            paths.add(path)
    return paths
