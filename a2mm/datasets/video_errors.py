"""Say what is wrong with a video that failed to load.

Decord reports every failure to open a file as ``RuntimeError: Error reading
<path>...``, whether the file is missing, empty, a text file or a truncated
MP4, and a failure to decode as a ``DECORDError`` with a C++ stack. The
functions here look at the file *after* a failure (nothing is done on the
happy path) and turn that into one line a user can act on.
"""
import os
import os.path as osp
import re
from typing import Any, Optional

__all__ = [
    'BadVideoError', 'describe_failure', 'frames_problem', 'sniff_container'
]

# decord 0.6.0 on some very narrow videos (seen: 1x1, 2x2, 2x5000 pixels):
# ``Check failed: from_size == to_size (96 vs. 3) DECORDArrayCopyFromTo``
_COPY_FAILED = re.compile(r'from_size == to_size \((\d+) vs\. (\d+)\)')

# Leading bytes of the containers video datasets use, and where they are.
_SIGNATURES = (
    (4, b'ftyp', 'MP4/MOV'),
    (0, b'RIFF', 'AVI'),
    (0, b'\x1aE\xdf\xa3', 'Matroska/WebM'),
    (0, b'FLV', 'FLV'),
    (0, b'OggS', 'Ogg'),
    (0, b'\x00\x00\x01\xba', 'MPEG-PS'),
    (0, b'\x00\x00\x01\xb3', 'MPEG video'),
    (0, b'0&\xb2u', 'ASF/WMV'),
)


class BadVideoError(RuntimeError):
    """A video that cannot be used, with its path and the reason.

    Args:
        message (str): the full message (the only positional argument, so
            that PyTorch's DataLoader can re-raise it from a worker).
        path (str): the video file.
        reason (str): what is wrong with it, one line.
    """

    def __init__(self, message: str, path: str = '', reason: str = ''):
        super().__init__(message)
        self.path = path
        self.reason = reason


def sniff_container(path: str) -> Optional[str]:
    """Container format named by the first bytes of ``path``, or None when
    they match no known video container."""
    with open(path, 'rb') as f:
        head = f.read(16)
    for offset, magic, name in _SIGNATURES:
        if head[offset:offset + len(magic)] == magic:
            return name
    if head[:1] == b'\x47':  # MPEG transport stream sync byte
        return 'MPEG-TS'
    return None


def _short(exc: BaseException) -> str:
    """The last line of an exception message (decord puts the useful part
    after a C++ stack), at most 160 characters."""
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    text = lines[-1] if lines else type(exc).__name__
    return f'{type(exc).__name__}: {text[:160]}'


def describe_failure(path: str, exc: BaseException, stage: str) -> str:
    """One line saying why ``path`` could not be loaded.

    Args:
        path (str): the video file.
        exc (BaseException): what the loading transform raised.
        stage (str): ``'open'`` (the transform that reads the header, e.g.
            ``DecordInit``, failed) or ``'decode'`` (reading frames failed).

    Returns:
        str: e.g. ``'file is empty (0 bytes)'``.
    """
    if not osp.exists(path):
        return 'file does not exist'
    if osp.isdir(path):
        return 'is a directory, not a video file'
    size = os.path.getsize(path)
    if size == 0:
        return 'file is empty (0 bytes)'
    try:
        container = sniff_container(path)
    except OSError as err:
        return f'cannot be read: {err}'
    copy = _COPY_FAILED.search(str(exc))
    if copy:
        return (f'decord opens this {container or "video"} file but cannot '
                f'copy its decoded frames: {copy.group(1)} bytes decoded per '
                f'frame where the array holds {copy.group(2)} '
                '(DECORDArrayCopyFromTo size check; decord 0.6.0 does this on '
                'some videos narrower than 32 pixels, which other decoders '
                'may read); re-encode it to a usual size')
    if stage == 'open':
        if container is None:
            with open(path, 'rb') as f:
                head = f.read(24)
            return (f'is not a video file: its first bytes {head!r} match no '
                    f'video container ({size} bytes; {_short(exc)})')
        return (f'{container} file that cannot be opened: truncated or '
                f'corrupt ({size} bytes; {_short(exc)})')
    return (f'frames cannot be decoded: truncated or corrupt '
            f'{container or "video"} file ({size} bytes; {_short(exc)})')


def frames_problem(imgs: Any) -> Optional[str]:
    """What is wrong with decoded frames, or None.

    decord 0.6.0 returns frames of videos narrower than 32 pixels with a
    wrong shape and no error (a 4x16 video gives (16, 4, 24) arrays: each
    row padded to 96 bytes), which later transforms would take for image
    data. Frames must be (height, width, 3).
    """
    first = imgs[0] if isinstance(imgs, (list, tuple)) and imgs else imgs
    shape = getattr(first, 'shape', None)
    if shape is None or len(shape) != 3 or shape[-1] == 3:
        return None
    return (f'decord decoded its frames with shape {tuple(shape)}, not '
            '(height, width, 3) (decord 0.6.0 does this on videos narrower '
            'than 32 pixels); re-encode it to a usual size')
