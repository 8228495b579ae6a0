"""The video reports of ``tools/data/check_videos.py`` and
``tools/data/resize_videos.py``: written by :func:`write_video_report`,
read by :func:`read_video_report`, and by :func:`read_exclusions` for the
list builders (``tools/data/build_*_lists.py --exclude``), which leave the
files they name out.

Format: the first line is :data:`REPORT_HEADER`, then ``#`` comment lines
and one JSON object per video, ``{"path": ..., "reason": ...}``, with
``"looped": true`` for a video that is used (shorter than one clip,
looped), not excluded. ``path`` is relative to the video root the tool was
given. JSON carries any file name exactly: a tab, a newline, a quote, or
bytes that are not UTF-8 (escaped as Python's ``os`` functions give them,
surrogate escapes, so the name read back opens the same file); the file
itself is ASCII.

Reports written before this format, ``<path>\\t<reason>`` per line with
``# looped\\t<path>\\t<reason>`` comments (no header), are still read.
"""
import json
from typing import Iterable, List, Optional, Set, Tuple

__all__ = [
    'REPORT_HEADER', 'read_exclusions', 'read_video_report',
    'write_video_report'
]

#: first line of a report in the JSON-lines format
REPORT_HEADER = ('# a2mm video report 2: one JSON object per line, '
                 '{"path": ..., "reason": ...}; "looped": true marks a video '
                 'that is used, not excluded')


def write_video_report(path: str, summary: str,
                       bad: Iterable[Tuple[str, str]],
                       looped: Iterable[Tuple[str, str]] = ()) -> None:
    """Write a report: :data:`REPORT_HEADER`, ``# <summary>``, then the
    ``(path, reason)`` of each bad video and of each looped one.

    Args:
        path (str): the report file.
        summary (str): one line saying what was checked.
        bad (iterable): ``(video path, reason)`` of the videos to exclude.
        looped (iterable): ``(video path, reason)`` of videos that are used
            but shorter than one clip.
    """
    rows = [dict(path=video, reason=reason) for video, reason in bad]
    rows += [dict(path=video, reason=reason, looped=True)
             for video, reason in looped]
    with open(path, 'w', encoding='ascii') as f:
        f.write(f'{REPORT_HEADER}\n# {" ".join(summary.splitlines())}\n')
        f.writelines(json.dumps(row) + '\n' for row in rows)


def _legacy_rows(report: str, lines: List[str]) -> List[dict]:
    """Rows of a report in the former ``<path>\\t<reason>`` format."""
    rows = []
    for number, line in enumerate(lines, 1):
        line = line.rstrip('\r\n')
        if line.startswith('# looped\t'):
            video, _, reason = line[len('# looped\t'):].partition('\t')
            rows.append(dict(path=video, reason=reason, looped=True))
            continue
        if not line or line.startswith('#'):
            continue
        video, sep, reason = line.partition('\t')
        if not sep:
            raise ValueError(f'{report}, line {number}: expected '
                             f'"<path>\\t<reason>", got {line!r}')
        rows.append(dict(path=video, reason=reason))
    return rows


def read_video_report(report: str) -> List[dict]:
    """Rows of a report, ``dict(path=str, reason=str[, looped=True])``, in
    file order; a report in the former tab-separated format is read too.

    Raises:
        ValueError: a line is not a JSON object with a string ``path`` and
            ``reason`` (or, in the former format, has no tab-separated
            reason); names the file and line.
    """
    with open(report, encoding='utf-8', newline='') as f:
        lines = f.read().split('\n')
    if lines[0].rstrip('\r') != REPORT_HEADER:
        return _legacy_rows(report, lines)
    rows = []
    for number, line in enumerate(lines[1:], 2):
        line = line.rstrip('\r')
        if not line.strip() or line.startswith('#'):
            continue
        try:
            row = json.loads(line)
        except ValueError as err:
            raise ValueError(f'{report}, line {number}: not JSON ({err}): '
                             f'{line[:200]!r}') from None
        if not (isinstance(row, dict) and isinstance(row.get('path'), str)
                and isinstance(row.get('reason'), str)):
            raise ValueError(f'{report}, line {number}: expected '
                             '{"path": <str>, "reason": <str>}, got '
                             f'{line[:200]!r}')
        rows.append(row)
    return rows


def read_exclusions(report: Optional[str]) -> Set[str]:
    """Paths of the videos a report excludes (not the looped ones; empty
    without a report).

    Raises:
        ValueError: a malformed line (names file and line).
    """
    if report is None:
        return set()
    return {row['path'] for row in read_video_report(report)
            if row.get('looped') is not True}
