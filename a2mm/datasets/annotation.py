"""Parse MMAction2 video annotation lists, with errors that name file and line.

An annotation list has one video per line: ``<path> <label>`` (or
``<path> <label> <label> ...`` for multi-label data, or just ``<path>`` for
an unlabelled inference list). MMAction2's ``VideoDataset.load_data_list``
splits each line on single spaces and unpacks two fields, so

- a path with a space (``Playing Guitar/v_1.avi 3``) fails with
  ``ValueError: too many values to unpack``, with no file or line;
- a non-integer label fails with ``invalid literal for int()``, no line;
- a label out of range of the classifier is only found by the loss, deep
  inside ``torch.nn.functional.cross_entropy`` (or not at all on CPU with
  some reductions), after hours of decoding;
- an empty list gives an empty dataset and a ``ZeroDivisionError`` or
  "num_samples should be a positive integer" from the sampler;
- a line without a label in a test list becomes label -1, scored as wrong;
- a list saved as UTF-16 or latin-1 is a bare ``UnicodeDecodeError``;
- a video listed twice (with the same or another label) goes unnoticed.

:func:`parse_video_list` splits the *last* fields off instead, so paths may
contain spaces, reads CRLF (Windows) and LF files alike, and raises
:class:`AnnotationError` naming the file, line number and the line itself.
:func:`decode_text` reads UTF-8 and names the file, line and encoding of
anything else; :func:`duplicate_lines` describes repeated videos.
"""
import difflib
import os
import re
from typing import Dict, List, Optional, Sequence, Union

__all__ = [
    'AnnotationError', 'decode_text', 'duplicate_lines', 'parse_video_list',
    'read_class_names', 'load_label_map'
]

_INT = re.compile(r'[+-]?\d+')
# Digits a label may have: a class index fits in int64 (what the loss
# takes). Python's int() refuses strings of more than 4300 digits with a
# bare ValueError (sys.set_int_max_str_digits), naming no file or line.
_MAX_LABEL_DIGITS = 18
_SHOWN = 120  # characters of a bad line quoted in an error


class AnnotationError(ValueError):
    """A problem in an annotation list or label file, with its location."""


def decode_text(data: bytes, path: str) -> str:
    """The text of a list or label file, which must be UTF-8 (a UTF-8
    byte-order mark is allowed).

    Raises:
        AnnotationError: the bytes are UTF-16/32 (a byte-order mark or NUL
            bytes) or not valid UTF-8 (e.g. latin-1); names the file, the
            line and the byte, and how to convert it.
    """
    boms = ((b'\xff\xfe\x00\x00', 'UTF-32'), (b'\x00\x00\xfe\xff', 'UTF-32'),
            (b'\xff\xfe', 'UTF-16'), (b'\xfe\xff', 'UTF-16'))
    found = next((name for bom, name in boms if data.startswith(bom)), None)
    if found is None and b'\x00' in data[:4096]:
        found = 'UTF-16 or UTF-32 (it has NUL bytes)'
    if found:
        raise AnnotationError(
            f'{path} is encoded as {found}; annotation and label files must '
            f'be UTF-8. Convert it, e.g. iconv -f {found.split()[0]} -t UTF-8 '
            f'{path} > fixed.txt')
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b'\n') + 1
        byte = data[err.start:err.start + 1]
        raise AnnotationError(
            f'{path}, line {line}: byte {byte!r} (offset {err.start}) is not '
            'UTF-8; annotation and label files must be UTF-8 (this one may '
            f'be latin-1 or Windows-1252). Convert it, e.g. iconv -f LATIN1 '
            f'-t UTF-8 {path} > fixed.txt') from None


def duplicate_lines(samples: Sequence[dict], ann_file: str,
                    shown: int = 5) -> Optional[str]:
    """A warning naming the videos that ``samples`` (from
    :func:`parse_video_list`) list more than once, with their lines and
    whether the labels agree; None when every video is listed once.

    Args:
        samples (sequence of dict): parsed lines (``filename``, ``label``,
            ``line``).
        ann_file (str): the list, for the message.
        shown (int): how many repeated videos to name. Defaults to 5.
    """
    lines: Dict[str, List[dict]] = {}
    for sample in samples:
        lines.setdefault(sample['filename'], []).append(sample)
    repeated = {path: group for path, group in lines.items()
                if len(group) > 1}
    if not repeated:
        return None
    conflicting = [path for path, group in repeated.items()
                   if len({str(s['label']) for s in group}) > 1]
    parts = []
    for path, group in list(repeated.items())[:shown]:
        where = ', '.join(f'{s["line"]} (label {s["label"]})' for s in group)
        kind = ('CONFLICTING labels' if path in conflicting else
                'same label')
        parts.append(f'{path!r} on lines {where}: {kind}')
    more = len(repeated) - len(parts)
    return (f'{ann_file}: {len(repeated)} video(s) listed more than once '
            f'({len(conflicting)} with conflicting labels); each line is '
            'used as a sample: ' + '; '.join(parts) +
            (f'; and {more} more' if more > 0 else ''))


def _split(line: str, delimiter: str, maxsplit: int = -1) -> List[str]:
    """Split ``line`` from the right; ``' '`` means any run of whitespace
    (spaces or tabs), as MMAction2's lists are written."""
    sep = None if delimiter == ' ' else delimiter
    return [field.strip() for field in line.rsplit(sep, maxsplit)]


def read_class_names(label_file: str, text: str) -> List[str]:
    """Class names of a label file: one name per line, line i is class i.

    Args:
        label_file (str): path of the file, for error messages.
        text (str): its contents.

    Returns:
        list[str]: the names, in order.

    Raises:
        AnnotationError: the file is empty or names a class twice.
    """
    names = [line.strip() for line in text.lstrip('\ufeff').splitlines()]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise AnnotationError(f'label file {label_file} is empty: no labels')
    seen: Dict[str, int] = {}
    for lineno, name in enumerate(names, start=1):
        if not name:
            raise AnnotationError(
                f'{label_file}, line {lineno}: empty class name (line i '
                'names class i-1, so blank lines would shift the labels)')
        if name in seen:
            raise AnnotationError(
                f'{label_file}, line {lineno}: class {name!r} already named '
                f'on line {seen[name]}')
        seen[name] = lineno
    return names


def load_label_map(path: Union[str, os.PathLike]) -> List[str]:
    """Class names of the label file at ``path`` (MMAction2's
    ``label_map_k400.txt`` format: line ``i`` names class ``i``), read as
    UTF-8 and checked by :func:`read_class_names`: the rule the dataset's
    ``label_file`` and the demo's label map share.

    Raises:
        AnnotationError: not UTF-8, empty, a blank line among the names or
            a class named twice (names file and line).
    """
    path = os.fspath(path)
    with open(path, 'rb') as f:
        return read_class_names(path, decode_text(f.read(), path))


def _parse_label(token: str, where: str, classes: Optional[Sequence[str]],
                 num_classes: Optional[int]) -> int:
    """One label token (an index, or a class name when ``classes`` is
    given) -> a class index checked against ``num_classes``."""
    if _INT.fullmatch(token):
        sign = '-' if token.startswith('-') else ''
        digits = token.lstrip('+-').lstrip('0') or '0'
        if len(digits) > _MAX_LABEL_DIGITS:
            raise AnnotationError(
                f'{where}: label of {len(digits)} digits is not a class '
                f'index (at most {_MAX_LABEL_DIGITS} digits)')
        label = int(sign + digits)
    elif classes is not None:
        if token not in classes:
            close = difflib.get_close_matches(token, list(classes), n=3)
            hint = f'; did you mean {close}?' if close else ''
            raise AnnotationError(
                f'{where}: unknown label {token!r}: not an integer and not '
                f'one of the {len(classes)} class names{hint}')
        label = list(classes).index(token)
    else:
        missing = ' (is the label missing?)' if '.' in token or \
            '/' in token else ''
        raise AnnotationError(
            f'{where}: label {token!r} is not an integer class index{missing}'
            ' (give the dataset label_file=... to use class names)')
    if label < 0 or (num_classes is not None and label >= num_classes):
        bound = f'[0, {num_classes - 1}]' if num_classes else '>= 0'
        raise AnnotationError(
            f'{where}: label {label} is out of range: expected a class index '
            f'in {bound}' + (f' (num_classes={num_classes})'
                             if num_classes else ''))
    return label


def parse_video_list(text: str,
                     ann_file: str,
                     multi_class: bool = False,
                     num_classes: Optional[int] = None,
                     classes: Optional[Sequence[str]] = None,
                     delimiter: str = ' ',
                     require_labels: bool = True) -> List[dict]:
    """Parse the text of an annotation list.

    Args:
        text (str): contents of the list (LF or CRLF line endings; a UTF-8
            byte-order mark is ignored).
        ann_file (str): its path, for error messages.
        multi_class (bool): lines carry one or more labels. Defaults to False.
        num_classes (int, optional): labels must lie in
            ``[0, num_classes)``; defaults to ``len(classes)`` when
            ``classes`` is given, else only ``>= 0`` is checked.
        classes (sequence of str, optional): class names; a label may then be
            a name instead of an index.
        delimiter (str): field separator; ``' '`` (default) means any run
            of spaces or tabs. The path is everything before the label
            field(s), so it may contain the delimiter.
        require_labels (bool): a line without a label is an error
            (default; training and test lists, whose labels are scored).
            If False it gets label -1 like MMAction2's inference lists.

    Returns:
        list[dict]: ``dict(filename=str, label=int or list[int], line=int)``
        per video, ``line`` being the 1-based line number. Blank lines are
        skipped.

    Raises:
        AnnotationError: empty list, line without a path, missing,
            non-integer, unknown or out-of-range label; the message names
            ``ann_file`` and the line number.
    """
    if num_classes is None and classes is not None:
        num_classes = len(classes)
    samples = []
    for lineno, raw in enumerate(text.lstrip('\ufeff').splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        shown = line if len(line) <= _SHOWN else \
            f'{line[:_SHOWN // 2]}...{line[-_SHOWN // 2:]}'
        where = f'{ann_file}, line {lineno} ({shown!r})'
        if multi_class:
            fields = _split(line, delimiter)
            n_labels = 0
            while (n_labels < len(fields) - 1
                   and _INT.fullmatch(fields[-1 - n_labels])):
                n_labels += 1
            if n_labels == 0:
                raise AnnotationError(
                    f'{where}: malformed line: expected '
                    '"<path> <label> [<label> ...]" with integer labels')
            path_fields = _split(line, delimiter, n_labels)
            filename = path_fields[0]
            label: Union[int, List[int]] = [
                _parse_label(tok, where, None, num_classes)
                for tok in path_fields[1:]
            ]
        else:
            fields = _split(line, delimiter, 1)
            if len(fields) == 1 or not fields[0]:
                if require_labels or not fields[-1]:
                    raise AnnotationError(
                        f'{where}: malformed line: expected "<path> <label>"'
                        ' (a path, the delimiter '
                        f'{"whitespace" if delimiter == " " else repr(delimiter)}'
                        ', an integer label); training, validation and test '
                        'lists need a label on every line')
                filename, label = fields[-1], -1
            else:
                filename = fields[0]
                label = _parse_label(fields[1], where, classes, num_classes)
        samples.append(dict(filename=filename, label=label, line=lineno))
    if not samples:
        raise AnnotationError(
            f'annotation file {ann_file} has no samples (it is empty or has '
            'only blank lines)')
    return samples
