"""One set of video suffixes for the package and the tools; the videos of
a folder tree or of an annotation list."""
import pytest

from a2mm.apis import VIDEO_EXTENSIONS as APIS_EXTENSIONS
from a2mm.apis import collect_videos
from a2mm.datasets import (VIDEO_EXTENSIONS, AnnotationError, is_video_file,
                           list_videos)


def test_one_set_of_suffixes():
    assert APIS_EXTENSIONS is VIDEO_EXTENSIONS
    assert all(s.startswith('.') and s == s.lower() for s in VIDEO_EXTENSIONS)
    assert is_video_file('clip.MP4') and is_video_file('a.b.webm')
    assert not is_video_file('clip.mp4.part') and not is_video_file('mp4')


def test_list_videos_of_a_tree_and_of_a_list(tmp_path):
    for rel in ('b/v.mkv', 'a/x y.AVI', 'a/notes.txt', 'c.mpg', 'd.mp4.part'):
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_bytes(b'')
    assert list_videos(str(tmp_path)) == ['a/x y.AVI', 'b/v.mkv', 'c.mpg']
    # the folder listing of the demo takes the same suffixes (one level)
    assert collect_videos(tmp_path) == [str(tmp_path / 'c.mpg')]
    ann = tmp_path / 'list.txt'
    ann.write_text('gone.mp4 1\nunlabelled.mp4\nPlaying Guitar/v 1.mp4 0\n')
    assert list_videos(str(tmp_path), str(ann)) == [
        'gone.mp4', 'unlabelled.mp4', 'Playing Guitar/v 1.mp4']
    ann.write_bytes('a.mp4 0\n'.encode('utf-16'))
    with pytest.raises(AnnotationError, match='is encoded as UTF-16'):
        list_videos(str(tmp_path), str(ann))
