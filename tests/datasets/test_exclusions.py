"""The exclusion reports of ``tools/data/check_videos.py`` and
``resize_videos.py``, read for the list builders' ``--exclude``."""
import pytest

from a2mm.datasets import (read_exclusions, read_video_report,
                           write_video_report)


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


NAMES = ['tab\there.mp4', 'new\nline.mp4', 'cr\rlf.mp4', '# hash.mp4',
         '{"path": "x"}.mp4', 'quote " and \\ backslash.mp4',
         'caf\u00e9/\u52d5\u753b.mp4', 'not utf-8 \udce9.mp4', ' spaces .mp4']


def test_any_file_name_round_trips(tmp_path):
    """Tabs, line breaks, quotes, comment and JSON look-alikes and names
    that are not UTF-8 (as os.listdir gives them) come back exactly."""
    report = str(tmp_path / 'report.txt')
    write_video_report(report, 'test:\nsummary', [(n, f'bad\t{i}\n')
                                                  for i, n in
                                                  enumerate(NAMES)],
                       looped=[('short\t.mp4', 'short: 5 frames')])
    rows = read_video_report(report)
    assert rows[:-1] == [dict(path=n, reason=f'bad\t{i}\n')
                         for i, n in enumerate(NAMES)]
    assert rows[-1] == dict(path='short\t.mp4', reason='short: 5 frames',
                            looped=True)
    assert read_exclusions(report) == set(NAMES)  # not the looped one
    assert open(report, 'rb').read().isascii()


def test_a_malformed_json_line_names_file_and_line(tmp_path):
    report = str(tmp_path / 'report.txt')
    write_video_report(report, 'summary', [('a.mp4', 'missing')])
    with open(report, 'a') as f:
        f.write('{"path": "b.mp4"\n["c.mp4", "missing"]\n')
    with pytest.raises(ValueError, match=r'report.txt, line 4: not JSON'):
        read_exclusions(report)
    lines = open(report).read().splitlines()
    del lines[3]
    open(report, 'w').write('\n'.join(lines))
    with pytest.raises(ValueError, match=r'report.txt, line 4: expected '
                       r'\{"path": <str>, "reason": <str>\}'):
        read_exclusions(report)
