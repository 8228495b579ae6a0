"""compare_state_dicts: a checkpoint against a model: wrong shapes, missing
and unexpected keys (after stripping ``module.``), and A² blocks that the
checkpoint lacks entirely told apart from keys that are missing."""
import torch

from a2mm.utils.checkpoint import compare_state_dicts


def test_compare_state_dicts_tells_new_blocks_from_missing_keys():
    expected = {k: torch.zeros(2) for k in (
        'conv.weight', 'blk.a2_block.w', 'blk.a2_block.b', 'other.a2_block.w',
        'other.a2_block.b', 'rand.a2_block.w')}
    got = {'conv.weight': torch.ones(2), 'other.a2_block.w': torch.ones(2)}
    blocks = {'blk.a2_block': True, 'other.a2_block': True,
              'rand.a2_block': False}
    report = compare_state_dicts(expected, got, new_blocks=blocks)
    # whole blocks are new; a block with some of its tensors is a mismatch
    assert report.new_blocks == [('blk.a2_block', True),
                                 ('rand.a2_block', False)]
    assert report.missing == ['other.a2_block.b'] and not report.ok
    text = report.format()
    assert '1 new A² block(s) (initialised as identity)' in text
    assert '1 new A² block(s) (zero_init=False: random, NOT identity)' in text
    assert '1 key(s) missing from the checkpoint:\n  other.a2_block.b' in text


def test_compare_state_dicts_lists_shapes_missing_and_unexpected_keys():
    expected = {'a.weight': torch.zeros(3, 4), 'b': torch.zeros(2)}
    got = {'module.a.weight': torch.zeros(5, 4), 'c': torch.zeros(1)}
    report = compare_state_dicts(expected, got)
    assert report.mismatched == [('a.weight', (3, 4), (5, 4))]
    assert report.missing == ['b'] and report.unexpected == ['c']
    assert 'a.weight: expected (3, 4) vs got (5, 4)' in report.format()
    assert compare_state_dicts(expected, expected).ok
