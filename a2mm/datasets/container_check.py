"""A structural check of AVI and MP4/MOV files, run before decord opens
them, so that a file that would crash decord never reaches it.

Why: decord 0.6.0 ends the *process* (no exception) on some files, which in
a DataLoader worker ends the run ("DataLoader worker ... is killed by
signal"), and with ``num_workers=0`` the run itself:

- an AVI whose ``LIST movi`` chunk runs past the end of the data, read *from
  memory*, which is how MMAction2's ``DecordInit`` reads every video
  (``decord.VideoReader(io.BytesIO(file_client.get(path)))``): SIGSEGV;
- an MP4/MOV whose chunk offsets (``stco``/``co64``), or a fragment's
  sample offsets (``tfhd``/``trun``), point past the end of the file, read
  from memory: SIGSEGV (decord's in-memory reader seeks where the index
  says, unchecked, and copies from there);
- an MP4/MOV whose ``stts`` declares 2**31 samples: ``std::bad_alloc``,
  SIGABRT (decord sizes per-frame arrays by that count), by path too.

Every chunk size of a RIFF file, every box size of an MP4 file and every
entry of its sample tables can be checked against the file with reads of
honest size, so such files never reach decord (``RobustVideoDataset``,
``tools/data/check_videos.py``); they are reported as bad videos.

AVI: every RIFF chunk and its top-level sub-chunks must end inside the file.
MP4/MOV: every top-level box must end inside the file and one must be
``moov``; in each ``moov`` (also one compressed as ``cmov``) the boxes down
to each track's sample tables (``moov/trak/mdia/minf/stbl``) must nest; each
table (``stco``, ``co64``, ``stsz``, ``stz2``, ``stsc``, ``stts``,
``ctts``, ``stss``) must hold the entries it declares; ``stts`` and
``ctts`` may not declare more samples than ``stsz`` lists; a video track
may not have more than :data:`MAX_VIDEO_SAMPLES` frames; and every chunk,
from its offset through the sizes of the samples ``stsc`` puts in it, must
lie inside the file. In each fragment (``moof``), every run of samples
(``trun``), from the fragment's base plus the run's data offset through its
samples' sizes, must lie inside the file, and the fragments may not declare
more than :data:`MAX_VIDEO_SAMPLES` samples. A file is taken as MP4/MOV by
its boxes, as FFmpeg probes it, not only by an ``ftyp`` box at the start
(decord opens a file whose ``ftyp`` was renamed just the same).

The check is pure Python and NumPy, walks a bounded number of boxes, and
cannot crash the interpreter. It reads a few bytes per top-level box and
each ``moov`` and ``moof`` whole (honest sizes: they lie inside the file;
FFmpeg reads them to open it anyway); tables are read as the bytes their
boxes hold, never by a declared count (the one exception, a ``cmov``, is
inflated to the size it declares, at most 64 MiB). Not checked: ``sidx``
and ``mfra`` offsets (decord 0.6.0 raises on crafted ones, it does not
crash), and anything in the coded frames themselves.
"""
import os
import struct
import zlib
from typing import BinaryIO, Dict, Iterator, List, Optional, Tuple

import numpy as np

from .video_errors import sniff_container

__all__ = ['MAX_VIDEO_SAMPLES', 'container_problem']

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


#: Frames a video track may have. decord sizes per-frame arrays by this
#: count (read from ``stts``): 2**31 ends the process with
#: ``std::bad_alloc``. 2**24 frames is 7.7 days at 25 fps, far beyond any
#: clip of a video dataset, and keeps those arrays to a few hundred MB.
MAX_VIDEO_SAMPLES = 1 << 24

# Top-level box types by which FFmpeg's mov demuxer recognises a file
# (libavformat/mov.c, mov_probe), whichever box they follow.
_MOV_TAGS = frozenset((b'ftyp', b'moov', b'mdat', b'pnot', b'udta', b'wide',
                       b'free', b'junk', b'pict', b'skip', b'uuid', b'prfl',
                       b'ediw', b'\x82\x82\x7f\x7d'))
_PROBE_BYTES = 1 << 20  # FFmpeg's largest probe buffer
_CMOV_MAX = 64 << 20  # bytes a compressed (cmov) movie header may inflate to
# Sample tables with a count of fixed-size entries: type -> bytes per entry
_TABLES = {b'stco': 4, b'co64': 8, b'stsc': 12, b'stts': 8, b'ctts': 8,
           b'stss': 4}
_SIZES = (b'stsz', b'stz2')
_Where = Optional[int]  # file offset of a buffer, None: an inflated cmov


class _Corrupt(Exception):
    """A structural fault of an MP4/MOV file; the message says which."""


def _at(base: _Where, pos: int) -> str:
    """Where byte ``pos`` of a buffer read from file offset ``base`` is."""
    if base is None:
        return f'byte {pos} of its compressed movie header (cmov)'
    return f'byte {base + pos}'


def _boxes(buf: bytes, start: int, end: int,
           base: _Where) -> Iterator[Tuple[bytes, int, int, int]]:
    """``(type, payload start, box end, box start)`` of each box in
    ``buf[start:end]``; a box that does not end inside its parent raises.
    A size of 0 means "to the end of the parent", as FFmpeg reads it."""
    pos, walked = start, 0
    while pos + 8 <= end:
        walked += 1
        if walked > _MAX_CHUNKS:
            raise _Corrupt(f'more than {_MAX_CHUNKS} boxes at '
                           f'{_at(base, start)}')
        length, kind = struct.unpack_from('>I4s', buf, pos)
        header = 8
        if length == 1:
            if pos + 16 > end:
                raise _Corrupt(f'box {kind!r} at {_at(base, pos)}: its '
                               '64-bit size is cut off')
            length, header = struct.unpack_from('>Q', buf, pos + 8)[0], 16
        elif length == 0:
            length = end - pos
        if length < header or pos + length > end:
            raise _Corrupt(
                f'box {kind.decode("latin-1")!r} at {_at(base, pos)} declares '
                f'{length} bytes, ' + ('less than its header' if length <
                                       header else 'past the end of its '
                                       f'parent box (at {_at(base, end)})'))
        yield kind, pos + header, pos + length, pos
        pos += length


def _children(buf: bytes, start: int, end: int,
              base: _Where) -> Dict[bytes, List[Tuple[int, int, int]]]:
    """The boxes in ``buf[start:end]`` by type: ``[(payload start, end,
    box start), ...]``."""
    found: Dict[bytes, List[Tuple[int, int, int]]] = {}
    for kind, body, stop, pos in _boxes(buf, start, end, base):
        found.setdefault(kind, []).append((body, stop, pos))
    return found


def _entries(buf: bytes, box: Tuple[int, int, int], kind: bytes,
             base: _Where, lead: int = 0,
             entry_bytes: Optional[int] = None) -> Tuple[int, int]:
    """``(entry count, offset of the first entry)`` of a full box (version
    and flags, ``lead`` more bytes, a 32-bit count), checked to hold its
    entries (``entry_bytes`` each; ``_TABLES``' size by default)."""
    body, end, pos = box
    name = kind.decode('latin-1')
    if entry_bytes is None:
        entry_bytes = _TABLES[kind]
    first = body + 8 + lead
    if first > end:
        raise _Corrupt(f'{name!r} table at {_at(base, pos)} is too small for '
                       'its header')
    count = struct.unpack_from('>I', buf, first - 4)[0]
    if count * entry_bytes > end - first:
        raise _Corrupt(
            f'{name!r} table at {_at(base, pos)} declares {count} entries of '
            f'{entry_bytes} bytes, its box holds {end - first} bytes')
    return count, first


def _column(buf: bytes, first: int, count: int, width: int,
            columns: int = 1) -> np.ndarray:
    """``count`` big-endian unsigned entries of ``columns`` fields of
    ``width`` bytes from ``buf[first:]``, as int64 (uint64 for 8 bytes)."""
    values = np.frombuffer(buf, dtype=f'>u{width}', count=count * columns,
                           offset=first)
    values = values.astype(np.uint64 if width == 8 else np.int64)
    return values.reshape(count, columns) if columns > 1 else values


def _one(tables: Dict[bytes, list], kinds: Tuple[bytes, ...],
         base: _Where) -> Optional[Tuple[bytes, Tuple[int, int, int]]]:
    """The one table of ``kinds`` in a track, or None. Two are refused:
    FFmpeg versions differ on which one they use."""
    found = [(kind, box) for kind in kinds for box in tables.get(kind, ())]
    if len(found) > 1:
        raise _Corrupt(
            'one track has ' + ' and '.join(
                f'{k.decode("latin-1")!r} (at {_at(base, b[2])})'
                for k, b in found[:2]) + ': a single table is allowed')
    return found[0] if found else None


def _sample_sizes(buf: bytes, tables: Dict[bytes, list], base: _Where,
                  size: int) -> Tuple[int, int, Optional[np.ndarray]]:
    """``(sample count, constant size or 0, cumulative sizes)`` from the
    track's ``stsz``/``stz2`` (0 samples without one); cumulative sizes
    has ``count + 1`` entries, None for a constant size."""
    table = _one(tables, _SIZES, base)
    if table is None:
        return 0, 0, None
    kind, box = table
    if kind == b'stsz':
        constant = struct.unpack_from('>I', buf, box[0] + 4)[0] \
            if box[0] + 8 <= box[1] else 0
        count, first = _entries(buf, box, kind, base, lead=4,
                                entry_bytes=0 if constant else 4)
        if constant:
            if count * constant > size:
                raise _Corrupt(
                    f"'stsz' table at {_at(base, box[2])} declares {count} "
                    f'samples of {constant} bytes, more than the file holds '
                    f'({size} bytes)')
            return count, constant, None
        sizes = _column(buf, first, count, 4)
    else:  # stz2: 24 reserved bits, the field size in bits, the count
        field = buf[box[0] + 7] if box[0] + 8 <= box[1] else 0
        if field not in (4, 8, 16):
            raise _Corrupt(f"'stz2' table at {_at(base, box[2])} has field "
                           f'size {field} bits, not 4, 8 or 16')
        count, first = _entries(buf, box, kind, base, lead=4, entry_bytes=0)
        if (count * field + 7) // 8 > box[1] - first:
            raise _Corrupt(f"'stz2' table at {_at(base, box[2])} declares "
                           f'{count} entries, its box holds fewer')
        if field == 4:
            packed = np.frombuffer(buf, np.uint8, (count + 1) // 2, first)
            sizes = np.stack([packed >> 4, packed & 15], 1).reshape(-1)[
                :count].astype(np.int64)
        else:
            sizes = _column(buf, first, count, field // 8)
    cumulative = np.zeros(count + 1, np.int64)
    np.cumsum(sizes, out=cumulative[1:])
    return count, 0, cumulative


def _track_problem(buf: bytes, stbl: Tuple[int, int, int], handler: bytes,
                   base: _Where, size: int) -> None:
    """Check one track's sample tables against each other and the file."""
    tables = _children(buf, stbl[0], stbl[1], base)
    kind_name = handler.decode('latin-1')
    count, constant, cumulative = _sample_sizes(buf, tables, base, size)
    if handler == b'vide' and count > MAX_VIDEO_SAMPLES:
        raise _Corrupt(f"its {kind_name!r} track declares {count} frames, "
                       f'more than {MAX_VIDEO_SAMPLES} (a video dataset '
                       'clip has far fewer)')
    for kind in (b'stts', b'ctts'):
        table = _one(tables, (kind, ), base)
        if table is None:
            continue
        entries, first = _entries(buf, table[1], kind, base)
        declared = int(_column(buf, first, entries, 4, 2)[:, 0].sum())
        if declared > count:
            raise _Corrupt(
                f"{kind.decode()!r} table at {_at(base, table[1][2])} of its "
                f'{kind_name!r} track declares {declared} samples, its '
                f'sample size table lists {count}')
    stss = _one(tables, (b'stss', ), base)
    if stss is not None:
        _entries(buf, stss[1], b'stss', base)
    offsets_table = _one(tables, (b'stco', b'co64'), base)
    if offsets_table is None:
        return
    kind, box = offsets_table
    chunks, first = _entries(buf, box, kind, base)
    offsets = _column(buf, first, chunks, _TABLES[kind])
    outside = np.flatnonzero(offsets > np.uint64(size)
                             if kind == b'co64' else offsets > size)
    if outside.size:
        i = int(outside[0])
        raise _Corrupt(f'chunk {i + 1} of its {kind_name!r} track starts at '
                       f'byte {int(offsets[i])} ({kind.decode()!r} table at '
                       f'{_at(base, box[2])}), past the end of the file '
                       f'({size} bytes)')
    offsets = offsets.astype(np.int64)
    per_chunk = np.zeros(chunks, np.int64)  # samples in each chunk
    stsc = _one(tables, (b'stsc', ), base)
    if stsc is not None:
        entries, first = _entries(buf, stsc[1], b'stsc', base)
        runs = _column(buf, first, entries, 4, 3)  # (first chunk, spc, sdi)
        starts = runs[:, 0]
        if entries and (starts[0] < 1 or np.any(np.diff(starts) <= 0)):
            raise _Corrupt(f"'stsc' table at {_at(base, stsc[1][2])}: its "
                           'first chunks do not increase from 1')
        starts = np.minimum(starts - 1, chunks)
        stops = np.append(starts[1:], chunks)
        if entries:
            spread = np.repeat(runs[:, 1], stops - starts)
            per_chunk[starts[0]:starts[0] + spread.size] = spread
    first_sample = np.cumsum(per_chunk) - per_chunk
    low = np.minimum(first_sample, count)
    high = np.minimum(first_sample + per_chunk, count)
    if cumulative is None:
        ends = offsets + (high - low) * constant
    else:
        ends = offsets + cumulative[high] - cumulative[low]
    past = np.flatnonzero(ends > size)
    if past.size:
        i = int(past[0])
        raise _Corrupt(
            f'chunk {i + 1} of its {kind_name!r} track, at byte '
            f'{int(offsets[i])} ({kind.decode()!r} table at '
            f'{_at(base, box[2])}), holds {int(high[i] - low[i])} samples '
            f'up to byte {int(ends[i])}, past the end of the file ({size} '
            'bytes)')


def _movie_problem(buf: bytes, base: _Where, size: int) -> Dict[int, int]:
    """Check the boxes of one ``moov`` payload (``buf``, read from file
    offset ``base``; None: an inflated ``cmov``) down to the sample tables
    of each track. Returns the default sample size of each track's
    fragments (``mvex/trex``: track ID -> bytes)."""
    defaults: Dict[int, int] = {}
    for kind, body, end, pos in _boxes(buf, 0, len(buf), base):
        if kind == b'cmov':
            inner = _inflate_cmov(buf, body, end, base, pos)
            for inner_kind, b, e, _ in _boxes(inner, 0, len(inner), None):
                if inner_kind == b'moov':
                    defaults.update(_movie_problem(inner[b:e], None, size))
        elif kind == b'mvex':
            for trex in _children(buf, body, end, base).get(b'trex', ()):
                if trex[0] + 20 <= trex[1]:
                    track, _, _, default = struct.unpack_from(
                        '>4I', buf, trex[0] + 4)
                    defaults[track] = default
        elif kind == b'trak':
            for mdia in _children(buf, body, end, base).get(b'mdia', ()):
                parts = _children(buf, mdia[0], mdia[1], base)
                hdlr = parts.get(b'hdlr', [(0, 0, 0)])[0]
                handler = buf[hdlr[0] + 8:hdlr[0] + 12] \
                    if hdlr[0] + 12 <= hdlr[1] else b'????'
                for minf in parts.get(b'minf', ()):
                    for stbl in _children(buf, minf[0], minf[1],
                                          base).get(b'stbl', ()):
                        _track_problem(buf, stbl, handler, base, size)
    return defaults


def _inflate_cmov(buf: bytes, body: int, end: int, base: _Where,
                  pos: int) -> bytes:
    """The movie header compressed in a ``cmov`` box (``dcom`` names zlib,
    ``cmvd`` holds the inflated size and the data), inflated to at most
    the size it declares and :data:`_CMOV_MAX`."""
    if base is None:
        raise _Corrupt('a compressed movie header inside a compressed one')
    parts = _children(buf, body, end, base)
    dcom, cmvd = parts.get(b'dcom'), parts.get(b'cmvd')
    if not dcom or not cmvd or cmvd[0][0] + 4 > cmvd[0][1]:
        raise _Corrupt(f"compressed movie header (cmov) at {_at(base, pos)} "
                       "lacks its 'dcom' or 'cmvd' box")
    method = buf[dcom[0][0]:dcom[0][0] + 4]
    if method != b'zlib':
        raise _Corrupt(f'compressed movie header (cmov) at {_at(base, pos)} '
                       f'uses {method!r}, not zlib')
    declared = struct.unpack_from('>I', buf, cmvd[0][0])[0]
    if declared > _CMOV_MAX:
        raise _Corrupt(f'compressed movie header (cmov) at {_at(base, pos)} '
                       f'declares {declared} bytes inflated, more than '
                       f'{_CMOV_MAX}')
    try:
        return zlib.decompressobj().decompress(
            buf[cmvd[0][0] + 4:cmvd[0][1]], declared)
    except zlib.error as err:
        raise _Corrupt(f'compressed movie header (cmov) at '
                       f'{_at(base, pos)} cannot be inflated: {err}') from None


# tfhd flags: base data offset, sample description index, default duration,
# default size, default flags; default base is moof (ISO/IEC 14496-12 8.8.7)
_TFHD_FIELDS = ((0x1, 8), (0x2, 4), (0x8, 4), (0x10, 4), (0x20, 4))
_TFHD_DEFAULT_BASE_IS_MOOF = 0x20000


def _fragment_problem(buf: bytes, body: int, moof: int, size: int,
                      sizes: Dict[int, int]) -> int:
    """Check one movie fragment: ``buf``, the payload at file offset
    ``body`` of the ``moof`` box at ``moof``. Every ``trun`` of each
    ``traf`` must hold its entries, and its samples must lie inside the
    file, from where FFmpeg takes them to start: the fragment's base
    (``tfhd``'s, the ``moof``, or the end of the previous run) plus the
    run's data offset. ``sizes`` maps track IDs to their default sample
    size (``trex``). Returns the number of samples the fragment declares.
    """
    implicit, declared = moof, 0
    for traf in _children(buf, 0, len(buf), body).get(b'traf', ()):
        parts = _children(buf, traf[0], traf[1], body)
        tfhd = parts.get(b'tfhd', [None])[0]
        if tfhd is None or tfhd[0] + 8 > tfhd[1]:
            raise _Corrupt(f"track fragment at {_at(body, traf[2])} has no "
                           "'tfhd' header")
        flags, track = struct.unpack_from('>II', buf, tfhd[0])
        fields, at = {}, tfhd[0] + 8
        for flag, width in _TFHD_FIELDS:
            if flags & flag:
                if at + width > tfhd[1]:
                    raise _Corrupt(f"'tfhd' at {_at(body, tfhd[2])} is too "
                                   'small for the fields its flags name')
                fields[flag] = int.from_bytes(buf[at:at + width], 'big')
                at += width
        if 0x1 in fields:
            base = fields[0x1]
        elif flags & _TFHD_DEFAULT_BASE_IS_MOOF:
            base = moof
        else:
            base = implicit
        default = fields.get(0x10, sizes.get(track, 0))
        for trun in parts.get(b'trun', ()):
            if trun[0] + 8 > trun[1]:
                raise _Corrupt(f"'trun' at {_at(body, trun[2])} is too small "
                               'for its header')
            flags, count = struct.unpack_from('>II', buf, trun[0])
            first = trun[0] + 8 + 4 * bool(flags & 0x1) + 4 * bool(
                flags & 0x4)
            fields_per_sample = bin(flags & 0xf00).count('1')
            if first > trun[1] or \
                    count * 4 * fields_per_sample > trun[1] - first:
                raise _Corrupt(f"'trun' at {_at(body, trun[2])} declares "
                               f'{count} samples, its box holds fewer')
            declared += count
            if flags & 0x200:  # per-sample sizes, after the durations
                rows = _column(buf, first, count, 4, fields_per_sample)
                total = int(rows[:, int(bool(flags & 0x100))].sum()) \
                    if count else 0
            else:
                total = count * default
            starts = [base]  # FFmpeg: base + data offset (0 without one)
            if flags & 0x1:
                starts[0] += struct.unpack_from('>i', buf, trun[0] + 8)[0]
            elif implicit != base:  # later FFmpegs: after the last run
                starts.append(implicit)
            for start in starts:
                if start < 0 or start + total > size:
                    raise _Corrupt(
                        f"'trun' at {_at(body, trun[2])} puts {count} "
                        f'samples ({total} bytes) at byte {start}, outside '
                        f'the file ({size} bytes)')
            implicit = base = starts[0] + total
    return declared


def _looks_like_mov(f: BinaryIO, size: int) -> bool:
    """Whether FFmpeg's mov demuxer would recognise the file: one of the
    top-level boxes starting in its first MiB has a type of ``_MOV_TAGS``
    (an MP4 whose ``ftyp`` was renamed is still opened as one)."""
    pos, walked = 0, 0
    while pos + 8 <= min(size, _PROBE_BYTES) and walked < _MAX_CHUNKS:
        walked += 1
        f.seek(pos)
        head = f.read(16)
        length, kind = struct.unpack('>I4s', head[:8])
        if length == 1 and len(head) == 16:
            length = struct.unpack('>Q', head[8:])[0]
        elif length == 0:
            length = size - pos
        if length < 8:
            return False
        if kind in _MOV_TAGS:
            return True
        pos += length
    return False


def _mp4_problem(f: BinaryIO, size: int) -> Optional[str]:
    """Every top-level box must end inside the file, one must be ``moov``
    (the index without which no frame can be found), each ``moov`` must
    pass :func:`_movie_problem` and each ``moof`` (a fragment of a
    fragmented MP4) :func:`_fragment_problem`."""
    pos, walked, seen_moov = 0, 0, False
    defaults: Dict[int, int] = {}  # track ID -> default fragment sample size
    fragment_samples = 0
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
        if kind in (b'moov', b'moof'):
            f.seek(pos + header)
            payload = f.read(length - header)
            try:
                if kind == b'moov':
                    seen_moov = True
                    defaults.update(_movie_problem(payload, pos + header,
                                                   size))
                else:
                    fragment_samples += _fragment_problem(
                        payload, pos + header, pos, size, defaults)
            except _Corrupt as err:
                what = 'index (the moov box' if kind == b'moov' else \
                    'movie fragment (the moof box'
                return (f'MP4/MOV file is corrupt: its {what} at byte {pos}) '
                        f'does not fit the file: {err}')
            if fragment_samples > MAX_VIDEO_SAMPLES:
                return (f'MP4/MOV file is corrupt: its movie fragments up to '
                        f'the one at byte {pos} declare {fragment_samples} '
                        f'samples, more than {MAX_VIDEO_SAMPLES}')
        pos += length
    if not seen_moov:
        return ("MP4/MOV file has no 'moov' box (the index of its frames): "
                'truncated, or a recording that was never finalised')
    return None


def container_problem(path: str) -> Optional[str]:
    """What is structurally wrong with the AVI or MP4/MOV file ``path``, in
    one line, or None (also for other containers, which are not checked).
    A file is checked as MP4/MOV when FFmpeg would take it for one
    (:func:`_looks_like_mov`), whatever its first bytes.

    Raises:
        OSError: the file cannot be opened or read.
    """
    size = os.path.getsize(path)
    with open(path, 'rb') as f:
        if sniff_container(path) == 'AVI':
            problem = _riff_problem(f, size)
            if problem:
                return problem
        if _looks_like_mov(f, size):
            return _mp4_problem(f, size)
    return None
