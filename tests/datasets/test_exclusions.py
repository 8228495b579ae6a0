"""The exclusion reports of ``tools/data/check_videos.py`` and
``resize_videos.py``, read for the list builders' ``--exclude``."""
import pytest

from a2mm.datasets import read_exclusions


def test_paths_of_a_report_without_comments(tmp_path):
    report = tmp_path / 'bad.txt'
    report.write_bytes(b'# check_videos.py: 2 of 9 videos failed\r\n'
                       b'a/one.mp4\tunreadable: broken\r\n\r\n'
                       b'# looped\tshort.mp4\tshort: 5 frames < 7\n'
                       b'b c/two.avi\tempty file\n')
    assert read_exclusions(str(report)) == {'a/one.mp4', 'b c/two.avi'}
    assert read_exclusions(None) == set()


def test_a_line_without_reason_names_file_and_line(tmp_path):
    report = tmp_path / 'bad.txt'
    report.write_text('ok.mp4\tmissing\nno_reason.mp4\n')
    with pytest.raises(ValueError, match=r'bad.txt, line 2: expected '
                       r'"<path>\\t<reason>", got \'no_reason.mp4\''):
        read_exclusions(str(report))
