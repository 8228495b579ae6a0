"""Annotation lists: every fault of issue 5 item 2, fed through the real
``RobustVideoDataset`` as a config builds it (no videos are read)."""
import os.path as osp

import pytest
from mmaction.registry import DATASETS

import a2mm  # noqa: F401
from a2mm.datasets import AnnotationError


def build(ann_file, **kwargs):
    cfg = dict(type='RobustVideoDataset', ann_file=ann_file, pipeline=[],
               data_prefix=dict(video='videos'))
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def infos(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def write(tmp_path, text, name='list.txt', newline='\n'):
    path = tmp_path / name
    path.write_bytes(text.replace('\n', newline).encode())
    return str(path)


@pytest.mark.parametrize('newline', ['\n', '\r\n'])
def test_paths_with_spaces_and_crlf(tmp_path, newline):
    ann = write(tmp_path, 'Playing Guitar/v 1.mp4 3\n\nb.mp4\t0\n',
                newline=newline)
    data = build(ann, num_classes=4)
    assert [d['filename'] for d in infos(data)] == [
        osp.join('videos', 'Playing Guitar/v 1.mp4'),
        osp.join('videos', 'b.mp4')
    ]
    assert [d['label'] for d in infos(data)] == [3, 0]
    assert [d['ann_line'] for d in infos(data)] == [1, 3]


def test_mmaction_videodataset_fails_on_spaces(tmp_path):
    """The bug the subclass fixes: upstream cannot read such a line."""
    ann = write(tmp_path, 'Playing Guitar/v 1.mp4 3\n')
    with pytest.raises(ValueError, match='too many values'):
        DATASETS.build(dict(type='VideoDataset', ann_file=ann, pipeline=[]))


@pytest.mark.parametrize('text, line, message', [
    ('a.mp4 1\nb.mp4 x\n', 2, "label 'x' is not an integer"),
    ('a.mp4 1\n\nb.mp4\n', 3, 'malformed line'),
    ('a.mp4 1\nb.mp4 4\n', 2, r'label 4 is out of range.*\[0, 3\]'),
    ('a.mp4 -1\n', 1, 'label -1 is out of range'),
    # Python's int() refuses > 4300 digits with a bare ValueError
    ('a.mp4 1\nb.mp4 ' + '7' * 5000 + '\n', 2,
     r"'b.mp4 7777.*7777'\): label of 5000 digits is not a class index"),
    ('a.mp4 -' + '9' * 19 + '\n', 1, 'label of 19 digits'),
    ('a.mp4 ' + '0' * 5000 + '7\n', 1,
     r"\.\.\.0+7'\): label 7 is out of range"),  # its value: 7
])
def test_bad_lines_name_file_and_line(tmp_path, text, line, message):
    ann = write(tmp_path, text)
    with pytest.raises(AnnotationError, match=message) as info:
        build(ann, num_classes=4)
    assert f'{ann}, line {line}' in str(info.value)


def test_unknown_label_name(tmp_path):
    labels = write(tmp_path, 'archery\nbowling\r\ncycling\n', 'labels.txt')
    ann = write(tmp_path, 'a.mp4 bowling\nb b.mp4 2\nc.mp4 bowlin\n')
    with pytest.raises(AnnotationError) as info:
        build(ann, label_file=labels)
    text = str(info.value)
    assert f'{ann}, line 3' in text and "unknown label 'bowlin'" in text
    assert "did you mean ['bowling']" in text
    good = write(tmp_path, 'a.mp4 bowling\nb b.mp4 2\n', 'good.txt')
    assert [d['label'] for d in infos(build(good, label_file=labels))] == \
        [1, 2]
    bad_index = write(tmp_path, 'a.mp4 3\n', 'idx.txt')
    with pytest.raises(AnnotationError, match='out of range'):
        build(bad_index, label_file=labels)


@pytest.mark.parametrize('text', ['', '\n\r\n  \n'])
def test_empty_file(tmp_path, text):
    ann = write(tmp_path, text)
    with pytest.raises(AnnotationError, match='has no samples') as info:
        build(ann)
    assert ann in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.txt does not exist'):
        build(str(tmp_path / 'nope.txt'))


@pytest.mark.parametrize('test_mode', [False, True])
def test_line_without_label_is_an_error(tmp_path, test_mode):
    """A test list line without a label used to become label -1 and be
    scored as wrong (issue 10 item 10)."""
    ann = write(tmp_path, 'a.mp4 0\nb.mp4\n')
    with pytest.raises(AnnotationError, match='malformed line') as info:
        build(ann, test_mode=test_mode)
    assert f"{ann}, line 2 ('b.mp4')" in str(info.value)
    assert 'need a label on every line' in str(info.value)
    spaced = write(tmp_path, 'a.mp4 0\nmy clip.mp4\n', 'spaced.txt')
    with pytest.raises(AnnotationError, match='is the label missing') as info:
        build(spaced, test_mode=test_mode)
    assert f'{spaced}, line 2' in str(info.value)


def test_multi_label_with_spaces(tmp_path):
    ann = write(tmp_path, 'my clip.mp4 1 3\r\nb.mp4 0\r\n')
    data = build(ann, multi_class=True, num_classes=4)
    assert infos(data)[0]['filename'].endswith('my clip.mp4')
    assert infos(data)[0]['label'].tolist() == [0, 1, 0, 1]  # one-hot
    with pytest.raises(AnnotationError, match='line 1.*out of range'):
        build(ann, multi_class=True, num_classes=3)


@pytest.mark.parametrize('encoding, expected', [
    ('utf-16', r'is encoded as UTF-16; annotation and label files must be '
               'UTF-8'),
    ('utf-16-le', 'is encoded as UTF-16 or UTF-32 \\(it has NUL bytes\\)'),
    ('latin-1', r"line 2: byte b'\\xe9' \(offset 11\) is not UTF-8"),
])
def test_list_not_in_utf8_names_file_and_encoding(tmp_path, encoding,
                                                  expected):
    ann = tmp_path / 'list.txt'
    ann.write_bytes('a.mp4 0\ncafé.mp4 1\n'.encode(encoding))
    with pytest.raises(AnnotationError, match=expected) as info:
        build(str(ann))
    assert str(ann) in str(info.value) and 'iconv' in str(info.value)
    labels = tmp_path / 'labels.txt'
    labels.write_bytes('archery\nbowling\n'.encode('utf-16'))
    with pytest.raises(AnnotationError, match='UTF-16') as info:
        build(write(tmp_path, 'a.mp4 0\n', 'ok.txt'), label_file=str(labels))
    assert str(labels) in str(info.value)


def test_repeated_videos_are_warned_with_their_lines(tmp_path):
    import logging
    from mmengine.logging import MMLogger

    class Keep(logging.Handler):
        def __init__(self):
            super().__init__(logging.WARNING)
            self.text = ''

        def emit(self, record):
            self.text += record.getMessage() + '\n'

    ann = write(tmp_path, 'a.mp4 0\nb.mp4 1\na.mp4 0\nc.mp4 2\nb.mp4 3\n')
    logger, keep = MMLogger.get_current_instance(), Keep()
    logger.addHandler(keep)
    try:
        data = build(ann, num_classes=4)
        repeated, keep.text = keep.text, ''
        build(write(tmp_path, 'a.mp4 0\nb.mp4 1\n', 'ok.txt'))
    finally:
        logger.removeHandler(keep)
    assert len(data) == 5  # every line stays a sample, as in MMAction2
    assert f'{ann}: 2 video(s) listed more than once (1 with conflicting '\
        'labels)' in repeated
    assert "'a.mp4' on lines 1 (label 0), 3 (label 0): same label" \
        in repeated
    assert "'b.mp4' on lines 2 (label 1), 5 (label 3): CONFLICTING " \
        'labels' in repeated
    assert 'more than once' not in keep.text
