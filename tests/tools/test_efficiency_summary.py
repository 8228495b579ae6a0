"""tools/analysis/efficiency_summary.py: the claim checks say 'no' when a
claim fails (fed made-up measurements; the real run is a benchmark)."""
import re

from a2mm.apis.complexity import Complexity
from tests.helpers.tools import load_tool

summary = load_tool('tools/analysis/efficiency_summary.py')


def row(params: float, gflops: float) -> 'Complexity':
    return Complexity('c.py', (1, 1, 3, 224, 224), int(params * 1e6),
                      int(gflops * 1e9))


def verdicts(a2, r152):
    return [holds for _, _, holds in summary.image_claims(a2, r152)]


def test_claims_hold():
    assert verdicts(row(30, 5), row(60, 11)) == [True, True, None]


def test_too_many_parameters_fails():
    assert verdicts(row(36.1, 5), row(60, 11))[0] is False
    table = summary.claims_table(summary.image_claims(row(36.1, 5),
                                                      row(60, 11)))
    # the printed ratio is the measured one, and its verdict says no
    (line, ) = [line for line in table.splitlines() if 'ratio 0.602' in line]
    assert re.search(r'\bno\b', line) and 'yes' not in line


def test_more_flops_fails():
    assert verdicts(row(30, 11.5), row(60, 11))[1] is False
