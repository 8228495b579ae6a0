"""A cheap structural check of AVI and MP4/MOV files, run before decord
opens them.

Why: decord 0.6.0 *segfaults* (the process dies, no exception) when it
opens an AVI whose ``LIST movi`` chunk runs past the end of the data it is
given *from memory*, which is how MMAction2's ``DecordInit`` reads every
video (``decord.VideoReader(io.BytesIO(file_client.get(path)))``). A
truncated AVI is such a file; in a DataLoader worker it ends the run with
"DataLoader worker ... is killed by signal: Segmentation fault". Opening the
same file by path does not crash, but the pipeline is the user's. Every
chunk size in a RIFF file and every box size in an MP4 file can be checked
against the file size with a few small reads, so such files never reach
decord (``RobustVideoDataset``, ``tools/data/check_videos.py``).

The check reads headers only (a few bytes per top-level chunk or box), is
pure Python, and cannot crash the interpreter.
"""
import os
import struct
from typing import BinaryIO, Optional

from .video_errors import sniff_container

__all__ = ['container_problem']

_MAX_CHUNKS = 100_000  # far above real files; bounds a crafted one


def _riff_problem(f: BinaryIO, size: int) -> Optional[str]:
    """Every RIFF chunk (``RIFF AVI `` and OpenDML ``RIFF AVIX``) and its
    top-level sub-chunks (``LIST hdrl``, ``LIST movi``, ``idx1``, ...) must
    end inside the file."""
    pos, walked = 0, 0
    while pos + 12 <= size and walked < _MAX_CHUNKS:
        f.seek(pos)
        fourcc, length, form = struct.unpack('<4sI4s', f.read(12))
        if fourcc != b'RIFF':
            if pos == 0:
                return 'AVI file whose first chunk is not RIFF: corrupt'
            break  # trailing bytes after the last RIFF chunk are ignored
        end = pos + 8 + length
        if end > size:
            return (f'AVI file is truncated: its RIFF {form.decode("latin-1")!r}'
                    f' chunk at byte {pos} declares {end} bytes, the file has '
                    f'{size}')
        sub = pos + 12
        while sub + 8 <= end and walked < _MAX_CHUNKS:
            walked += 1
            f.seek(sub)
            cid, clen = struct.unpack('<4sI', f.read(8))
            name = cid.decode('latin-1')
            if cid == b'LIST':
                name += ' ' + f.read(4).decode('latin-1')
            sub_end = sub + 8 + clen + (clen & 1)  # chunks are word-aligned
            if sub + 8 + clen > end:
                return (f'AVI file is truncated or corrupt: its {name!r} '
                        f'chunk at byte {sub} runs to byte {sub + 8 + clen}, '
                        f'past the end of its RIFF chunk ({end}; the file '
                        f'has {size} bytes)')
            sub = sub_end
        pos = end + (length & 1)
    if pos == 0:
        return f'AVI file is truncated: {size} bytes, not even a RIFF header'
    return None


def _mp4_problem(f: BinaryIO, size: int) -> Optional[str]:
    """Every top-level box must end inside the file, and one must be
    ``moov`` (the index without which no frame can be found)."""
    pos, walked, seen_moov = 0, 0, False
    while pos + 8 <= size and walked < _MAX_CHUNKS:
        walked += 1
        f.seek(pos)
        length, kind = struct.unpack('>I4s', f.read(8))
        header = 8
        if length == 1:  # 64-bit size follows
            raw = f.read(8)
            if len(raw) < 8:
                break
            length, header = struct.unpack('>Q', raw)[0], 16
        elif length == 0:  # the last box runs to the end of the file
            length = size - pos
        name = kind.decode('latin-1')
        if length < header:
            return (f'MP4/MOV file is corrupt: box {name!r} at byte {pos} '
                    f'declares {length} bytes, less than its header')
        if pos + length > size:
            return (f'MP4/MOV file is truncated: box {name!r} at byte {pos} '
                    f'declares {length} bytes, up to byte {pos + length}; '
                    f'the file has {size}')
        seen_moov |= kind == b'moov'
        pos += length
    if not seen_moov:
        return ("MP4/MOV file has no 'moov' box (the index of its frames): "
                'truncated, or a recording that was never finalised')
    return None


def container_problem(path: str) -> Optional[str]:
    """What is structurally wrong with the AVI or MP4/MOV file ``path``, in
    one line, or None (also for other containers, which are not checked).

    Raises:
        OSError: the file cannot be opened or read.
    """
    kind = sniff_container(path)
    if kind not in ('AVI', 'MP4/MOV'):
        return None
    size = os.path.getsize(path)
    with open(path, 'rb') as f:
        if kind == 'AVI':
            return _riff_problem(f, size)
        return _mp4_problem(f, size)
