"""Data files for the tests, generated in ``tmp_path``: videos, annotation
lists, label maps, and videos broken for real for the fault tests.

Every video is written by the package's one writer,
:func:`a2mm.datasets.digit_clips.write_video` (RGB frames, OpenCV's
``mp4v`` or ``MJPG`` codec), from one of two frame recipes:
:func:`labelled_frames` (noise and a square whose position is the label:
learnable by a tiny model) and :func:`gradient_frames` (a bright gradient
with a moving square: what the demo draws its label box over).
"""
import os
import os.path as osp
import struct
import zlib
from typing import Dict, List, Sequence, Tuple

import numpy as np

from a2mm.datasets.digit_clips import write_list, write_video

__all__ = [
    'NUM_CLASSES', 'FAULTS', 'SHORT', 'labelled_frames', 'gradient_frames',
    'write_labelled_video', 'write_gradient_video', 'make_videos',
    'make_fault_videos', 'truncate', 'write_list', 'make_label_map',
    'MP4_INDEX_FAULTS', 'break_mp4_index', 'mp4_with_co64', 'mp4_with_cmov',
    'break_mp4_fragment'
]

#: classes of the :func:`make_videos` datasets
NUM_CLASSES = 3

# name -> what the dataset must say about it (a substring of the reason)
FAULTS: Dict[str, str] = {
    'missing': 'does not exist',
    'empty': 'empty (0 bytes)',
    'text': 'is not a video file',
    'truncated_mp4': 'MP4/MOV file is truncated',
    'truncated_avi': 'AVI file is truncated',  # decord segfaults on it
    'corrupt': 'frames cannot be decoded',
    'tiny': 'cannot copy its decoded frames: 96 bytes decoded per frame '
            'where the array holds 3',  # 1x1 pixels
    'narrow': 'cannot copy its decoded frames: 1536 bytes decoded per '
              'frame where the array holds 192',  # 4x16 pixels
}
# MP4s whose index (moov) was crafted to crash decord (break_mp4_index)
MP4_INDEX_FAULTS: Dict[str, str] = {
    # chunk offsets past the end: decord reading it from memory, SIGSEGV
    'stco_past_end': 'starts at byte 2147483632',
    'co64_past_end': "starts at byte 2147483632 ('co64' table",
    # 2**31 - 1 samples in stts: std::bad_alloc, SIGABRT (by path too)
    'stts_count': "'stts' table at byte",
    # the stco fault with 'ftyp' renamed 'free': still opened as an MP4
    'no_ftyp': 'starts at byte 2147483632',
}
FAULTS.update((f'mp4_{name}', 'MP4/MOV file is corrupt: its index (the '
               f'moov box at byte') for name in MP4_INDEX_FAULTS)
# short videos (fewer frames than a 4x2 clip spans, 7): data, looped
SHORT: Dict[str, int] = {'one_frame': 1, 'short': 5}


def labelled_frames(num_frames: int, size: Sequence[int] = (40, 32),
                    seed: int = 0, label: int = 0) -> np.ndarray:
    """Random-noise frames with a bright square, a third of the frame,
    in quadrant ``label`` (0..3: top-left, top-right, bottom-left,
    bottom-right), jittering by up to 3 pixels; ``size = (width, height)``.

    Returns:
        np.ndarray: uint8 RGB frames, shape (num_frames, height, width, 3).
    """
    rng = np.random.default_rng(seed)
    width, height = size
    frames = np.empty((num_frames, height, width, 3), np.uint8)
    for t in range(num_frames):
        frames[t] = rng.integers(0, 80, (height, width, 3), dtype=np.uint8)
        y = (label // 2) * height // 2 + (t % 4)
        x = (label % 2) * width // 2 + (t % 4)
        frames[t, y:y + height // 3, x:x + width // 3] = 255
    return frames


def gradient_frames(num_frames: int,
                    size: Sequence[int] = (64, 48)) -> np.ndarray:
    """A horizontal gradient (blue 0..160, green 60) with a bright 16x16
    square moving 3 pixels a frame to the right; ``size = (width, height)``.

    Returns:
        np.ndarray: uint8 RGB frames, shape (num_frames, height, width, 3).
    """
    width, height = size
    frames = np.zeros((num_frames, height, width, 3), np.uint8)
    frames[..., 2] = np.linspace(0, 160, width, dtype=np.uint8)[None, :]
    frames[..., 1] = 60
    for t in range(num_frames):
        x0 = (t * 3) % (width - 16)
        frames[t, height // 3:height // 3 + 16, x0:x0 + 16] = (250, 220, 40)
    return frames


def write_labelled_video(path: str,
                         num_frames: int,
                         size: Tuple[int, int] = (40, 32),
                         fourcc: str = 'mp4v',
                         seed: int = 0,
                         label: int = 0) -> str:
    """Write :func:`labelled_frames` at 25 fps.

    Args:
        path (str): output file (.mp4 or .avi).
        num_frames (int): frames to write.
        size (tuple): (width, height).
        fourcc (str): codec: 'mp4v' for .mp4, 'MJPG' for .avi.
        seed (int): noise seed.
        label (int): 0..3, the quadrant of the square.

    Returns:
        str: ``path``.
    """
    return write_video(path, labelled_frames(num_frames, size, seed, label),
                       25, fourcc=fourcc)


def write_gradient_video(path: str,
                         num_frames: int = 16,
                         size: Sequence[int] = (64, 48),
                         fps: float = 8.0) -> str:
    """Write an mp4 of :func:`gradient_frames`; ``size = (width, height)``.
    Returns ``path``."""
    return write_video(path, gradient_frames(num_frames, size), fps)


def make_videos(root: str, split: str, num: int, num_frames: int = 16,
                size: Sequence[int] = (40, 32)) -> str:
    """Write ``num`` mp4 clips of ``size`` (W, H) under ``root/split``:
    :func:`write_labelled_video` with label ``i % NUM_CLASSES``, and their
    list.

    Returns:
        str: the annotation list ``root/<split>_list.txt``.
    """
    folder = osp.join(root, split)
    os.makedirs(folder, exist_ok=True)
    entries = []
    for i in range(num):
        label = i % NUM_CLASSES
        write_labelled_video(osp.join(folder, f'v{i}.mp4'), num_frames,
                             tuple(size), seed=1000 * len(split) + i,
                             label=label)
        entries.append((f'v{i}.mp4', label))
    return write_list(osp.join(root, f'{split}_list.txt'), entries)


def make_label_map(path: str, num_classes: int) -> List[str]:
    """Write ``class_0 ... class_{k-1}``, one per line; return them."""
    labels = [f'class_{i}' for i in range(num_classes)]
    with open(path, 'w') as f:
        f.write('\n'.join(labels) + '\n')
    return labels


def truncate(src: str, dst: str, fraction: float) -> str:
    """Write the first ``fraction`` of the bytes of ``src`` to ``dst``."""
    with open(src, 'rb') as f:
        data = f.read()
    with open(dst, 'wb') as f:
        f.write(data[:int(len(data) * fraction)])
    return dst


def _mp4_box(data: bytes, kind: bytes) -> Tuple[int, int, List[int]]:
    """``(start, size, starts of its ancestors)`` of the first box ``kind``
    on the path moov/trak/mdia/minf/stbl of an MP4 (32-bit sizes)."""
    def walk(start, end, parents):
        pos = start
        while pos + 8 <= end:
            size, name = struct.unpack_from('>I4s', data, pos)
            if name == kind:
                return pos, size, parents
            if name in (b'moov', b'trak', b'mdia', b'minf', b'stbl'):
                found = walk(pos + 8, pos + size, parents + [pos])
                if found:
                    return found
            pos += size
        return None
    found = walk(0, len(data), [])
    assert found, f'no {kind!r} box'
    return found


def _set_chunk_offsets(data: bytearray, offsets, wide: bool) -> None:
    """Rewrite the first ``stco`` of ``data`` with ``offsets`` (None: its
    own), as a 64-bit ``co64`` table if ``wide``; the boxes around it are
    resized (their offsets stay right: the ``moov`` comes after the
    ``mdat``)."""
    pos, size, parents = _mp4_box(bytes(data), b'stco')
    count = struct.unpack_from('>I', data, pos + 12)[0]
    if offsets is None:
        offsets = struct.unpack_from(f'>{count}I', data, pos + 16)
    width = 'Q' if wide else 'I'
    table = struct.pack(f'>I4sII{count}{width}', 16 + (8 if wide else 4) *
                        count, b'co64' if wide else b'stco', 0, count,
                        *offsets)
    for parent in parents:
        struct.pack_into('>I', data, parent, struct.unpack_from(
            '>I', data, parent)[0] + len(table) - size)
    data[pos:pos + size] = table


def _rewrite(src: str, dst: str, change) -> str:
    with open(src, 'rb') as f:
        data = bytearray(f.read())
    change(data)
    with open(dst, 'wb') as f:
        f.write(bytes(data))
    return dst


def mp4_with_co64(src: str, dst: str) -> str:
    """Write ``src`` (OpenCV's MP4) with its chunk offsets as a 64-bit
    ``co64`` table, as muxers write files over 4 GiB: a valid file."""
    return _rewrite(src, dst, lambda d: _set_chunk_offsets(d, None, True))


def mp4_with_cmov(src: str, dst: str) -> str:
    """Write ``src`` (OpenCV's MP4) with its ``moov`` compressed into a
    QuickTime ``cmov`` box (``dcom`` zlib, ``cmvd``), which FFmpeg and
    decord inflate and read; valid if ``src`` is."""
    def change(data: bytearray) -> None:
        pos = 0
        while data[pos + 4:pos + 8] != b'moov':
            pos += struct.unpack_from('>I', data, pos)[0]
        size = struct.unpack_from('>I', data, pos)[0]
        packed = zlib.compress(bytes(data[pos:pos + size]))
        cmvd = struct.pack('>I4sI', 12 + len(packed), b'cmvd', size) + packed
        cmov = struct.pack('>I4s', 20 + len(cmvd), b'cmov') + struct.pack(
            '>I4s4s', 12, b'dcom', b'zlib') + cmvd
        data[pos:pos + size] = struct.pack('>I4s', 8 + len(cmov),
                                           b'moov') + cmov

    return _rewrite(src, dst, change)


def break_mp4_index(src: str, dst: str, fault: str) -> str:
    """Write ``src`` (an MP4 with its ``moov`` after its ``mdat``, as OpenCV
    writes it) to ``dst`` with one fault of :data:`MP4_INDEX_FAULTS` in
    its sample tables; returns ``dst``."""
    if fault not in MP4_INDEX_FAULTS:
        raise ValueError(f'unknown fault {fault!r}')

    def change(data: bytearray) -> None:
        if fault == 'stts_count':
            pos = _mp4_box(bytes(data), b'stts')[0]
            struct.pack_into('>I', data, pos + 16, 0x7fffffff)
            return
        count = struct.unpack_from(
            '>I', data, _mp4_box(bytes(data), b'stco')[0] + 12)[0]
        _set_chunk_offsets(data, [0x7ffffff0] * count,
                           wide=fault == 'co64_past_end')
        if fault == 'no_ftyp':
            assert data[4:8] == b'ftyp'
            data[4:8] = b'free'

    return _rewrite(src, dst, change)


def break_mp4_fragment(src: str, dst: str, fault: str) -> str:
    """Write the fragmented MP4 ``src`` (FFmpeg's ``-movflags
    frag_keyframe+empty_moov``) to ``dst`` with the first fragment's
    samples placed past the end of the file (decord reading it from
    memory: SIGSEGV): ``'trun_offset'`` sets the run's data offset,
    ``'tfhd_base'`` the fragment's base data offset, to 0x7ffffff0."""
    def change(data: bytearray) -> None:
        moof = bytes(data).index(b'moof') - 4
        kind, field = {'trun_offset': (b'trun', '>i'),
                       'tfhd_base': (b'tfhd', '>Q')}[fault]
        pos = bytes(data).index(kind, moof) - 4
        flags = struct.unpack_from('>I', data, pos + 8)[0]
        assert flags & 1, f'{kind!r} has no offset field to set'
        struct.pack_into(field, data, pos + 16, 0x7ffffff0)

    return _rewrite(src, dst, change)


def make_fault_videos(root: str, good: int = 4,
                      num_frames: int = 24) -> Dict[str, str]:
    """A folder with ``good`` valid videos and one of each fault.

    Returns:
        dict: name -> file name relative to ``root``; good ones are
        ``good0``, ``good1``, ...; the faults are the keys of ``FAULTS``,
        the short videos those of ``SHORT``.
    """
    os.makedirs(root, exist_ok=True)
    files = {}
    for i in range(good):
        files[f'good{i}'] = osp.basename(
            write_labelled_video(osp.join(root, f'good {i}.mp4'),
                                 num_frames, seed=i, label=i % 4))
    files['missing'] = 'missing.mp4'
    open(osp.join(root, 'empty.mp4'), 'wb').close()
    files['empty'] = 'empty.mp4'
    with open(osp.join(root, 'text.mp4'), 'w') as f:
        f.write('this is a text file renamed to .mp4\n' * 20)
    files['text'] = 'text.mp4'
    # MP4 from cv2 keeps its index (moov) at the end: cut, it cannot open.
    full = write_labelled_video(osp.join(root, 'full.mp4'), num_frames,
                                seed=9)
    truncate(full, osp.join(root, 'truncated.mp4'), 0.5)
    os.remove(full)
    files['truncated_mp4'] = 'truncated.mp4'
    # AVI (MJPG) cut at 30%: decord reading it from memory, as MMAction2's
    # DecordInit does, dies with SIGSEGV (tests/datasets/test_bad_videos.py)
    full = write_labelled_video(osp.join(root, 'full.avi'), num_frames,
                                seed=7, fourcc='MJPG')
    truncate(full, osp.join(root, 'truncated.avi'), 0.3)
    os.remove(full)
    files['truncated_avi'] = 'truncated.avi'
    files['tiny'] = osp.basename(write_labelled_video(
        osp.join(root, 'tiny.avi'), num_frames, size=(1, 1), fourcc='MJPG'))
    files['narrow'] = osp.basename(write_labelled_video(
        osp.join(root, 'narrow.avi'), num_frames, size=(4, 16),
        fourcc='MJPG'))
    # Payload overwritten with zeros (header intact): it opens, but the
    # frames after the first cannot be decoded.
    full = write_labelled_video(osp.join(root, 'full.mp4'), num_frames,
                                seed=8)
    with open(full, 'rb') as f:
        data = bytearray(f.read())
    data[600:len(data) - 1500] = bytes(len(data) - 2100)
    with open(osp.join(root, 'corrupt.mp4'), 'wb') as f:
        f.write(bytes(data))
    os.remove(full)
    files['corrupt'] = 'corrupt.mp4'
    # MP4s whose index was crafted to crash decord (break_mp4_index)
    full = write_labelled_video(osp.join(root, 'full.mp4'), num_frames,
                                seed=6)
    for name in MP4_INDEX_FAULTS:
        files[f'mp4_{name}'] = osp.basename(break_mp4_index(
            full, osp.join(root, f'{name}.mp4'), name))
    os.remove(full)
    files['one_frame'] = osp.basename(
        write_labelled_video(osp.join(root, 'one_frame.mp4'), 1))
    files['short'] = osp.basename(
        write_labelled_video(osp.join(root, 'short.mp4'), 5))
    return files
