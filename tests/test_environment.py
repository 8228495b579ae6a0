"""The installed stack: one consistent cv2, video round trips, registries."""
from importlib import metadata

import cv2
import numpy as np
import pytest

from a2mm.datasets.digit_clips import write_video

CV2_DISTRIBUTIONS = ('opencv-python', 'opencv-contrib-python',
                     'opencv-python-headless', 'opencv-contrib-python-headless')


def installed_cv2_distributions():
    found = {}
    for name in CV2_DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def test_cv2_providers_agree():
    found = installed_cv2_distributions()
    assert found, 'no distribution provides cv2'
    # every provider writes the same cv2/ folder: they must be one build
    assert len(set(found.values())) == 1, found
    version = next(iter(found.values()))
    assert cv2.__version__ == '.'.join(version.split('.')[:3])


def _write_clip(path, frames):
    """Write BGR ``frames`` with the package's (and the tests') one writer,
    which takes RGB and encodes with cv2's mp4v."""
    write_video(str(path), np.stack(frames)[..., ::-1], 8)


def _red_centre(row: np.ndarray) -> float:
    """Mean column of the bright pixels of one row of one channel."""
    return float(np.nonzero(row > 128)[0].mean())


def _moving_square(num_frames=12, size=64):
    frames = []
    for i in range(num_frames):
        frame = np.zeros((size, size, 3), np.uint8)
        frame[20:40, 4 * i:4 * i + 16] = (0, 0, 255)  # red in BGR
        frames.append(frame)
    return frames


def test_cv2_encodes_and_decodes_video(tmp_path):
    path = tmp_path / 'clip.mp4'
    frames = _moving_square()
    _write_clip(path, frames)
    cap = cv2.VideoCapture(str(path))
    decoded = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        decoded.append(frame)
    assert len(decoded) == len(frames)
    # lossy codec: the square is where it was written, and red
    for original, frame in zip(frames, decoded):
        assert np.abs(frame.astype(int) - original).mean() < 8
        assert abs(_red_centre(frame[30, :, 2]) -
                   _red_centre(original[30, :, 2])) < 1.5


def test_decord_reads_what_cv2_wrote(tmp_path):
    decord = pytest.importorskip('decord')
    path = tmp_path / 'clip.mp4'
    frames = _moving_square()
    _write_clip(path, frames)
    reader = decord.VideoReader(str(path))
    assert len(reader) == len(frames)
    batch = reader.get_batch([0, 5]).asnumpy()  # RGB
    assert batch.shape == (2, 64, 64, 3)
    assert abs(_red_centre(batch[1, 30, :, 0]) -
               _red_centre(frames[5][30, :, 2])) < 1.5


def test_import_a2mm_fills_mmaction_registry():
    import a2mm  # noqa: F401
    from mmaction.registry import MODELS
    from mmengine.registry import MODELS as ROOT
    for name in ('A2Block', 'A2ResNet3d', 'A2ResNet', 'Recognizer3D'):
        assert MODELS.get(name) is not None, name
    assert ROOT.get('A2Block') is MODELS.get('A2Block')
