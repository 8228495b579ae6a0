"""What a checkpoint may make torch allocate is bounded before torch reads
it (a2mm/utils/checkpoint/declared_sizes.py): files that declare hundreds
of MiB or more in a few KiB or MB of disk are refused by name, and the
peak memory of trying them all stays within a stated margin; an honest
checkpoint costs what it holds."""
import json
import subprocess
import sys

import pytest
import torch

import a2mm  # noqa: F401
from a2mm.utils.checkpoint import CheckpointLoadError, load_checkpoint_file
from a2mm.utils.checkpoint.declared_sizes import MAX_PICKLE_OPCODES
from tests.helpers.hostile_checkpoints import (KINDS, build_corpus,
                                               write_deflated_bomb,
                                               write_sparse_legacy)

#: what loading may add to the process's peak memory beyond the bytes the
#: file really holds (MiB): the pickle's own objects (at most ~60 MiB for
#: MAX_PICKLE_OPCODES opcodes) and torch's bookkeeping
MARGIN_MIB = 96

#: the kinds of the hostile corpus that declare far more than they hold
MEMORY_KINDS = ('deflated_bomb', 'sparse_legacy', 'legacy_beyond_file',
                'lying_storage_size', 'pickle_opcodes', 'sparse_64g',
                'cfg_deep_nesting')

# Peak RSS is read as VmHWM after resetting it to the current RSS
# (/proc/self/clear_refs, Linux >= 4.0): getrusage's ru_maxrss of a fresh
# subprocess still carries the peak of the pytest process it was forked from,
# and the imports' own transient peak would hide up to a few hundred MiB.
_MEASURE = '''
import json, sys
import torch
import a2mm
from a2mm.utils.checkpoint import CheckpointLoadError, load_checkpoint_file
paths, honest, tiny = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]

def peak():
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) for line in f
                    if line.startswith('VmHWM')) / 1024

load_checkpoint_file(tiny)  # warm up: lazy imports
with open('/proc/self/clear_refs', 'w') as f:
    f.write('5')
base = peak()
refusals = {}
for kind, path in paths.items():
    try:
        load_checkpoint_file(path)
        refusals[kind] = None
    except CheckpointLoadError as e:
        refusals[kind] = str(e)
hostile = peak() - base
state = load_checkpoint_file(honest)['state_dict']
print(json.dumps({'refusals': refusals, 'hostile_mib': hostile,
                  'honest_mib': peak() - base}))
'''


def test_hostile_files_are_refused_within_the_margin(tmp_path):
    """Each file declares 256 MiB to 64 GiB (a 1 MB deflated record, 4 KiB
    of disk with holes, ...); none is read, the peak RSS grows by less
    than MARGIN_MIB over all of them, and an honest 64 MiB checkpoint
    loaded afterwards costs its size and the margin."""
    corpus = build_corpus(str(tmp_path), str(tmp_path / 'marker'))
    paths = {kind: corpus[kind] for kind in MEMORY_KINDS}
    honest = str(tmp_path / 'honest.pth')
    torch.save({'state_dict': {'w': torch.randn(16 << 20)}}, honest)
    tiny = str(tmp_path / 'tiny.pth')
    torch.save({'state_dict': {'w': torch.randn(4)}}, tiny)
    proc = subprocess.run(
        [sys.executable, '-c', _MEASURE, json.dumps(paths), honest, tiny],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    for kind, message in result['refusals'].items():
        assert message is not None, f'{kind} was loaded'
        assert paths[kind] in message and KINDS[kind] in message, message
    assert result['hostile_mib'] < MARGIN_MIB, result
    assert 64 <= result['honest_mib'] < 64 + MARGIN_MIB, result


@pytest.mark.parametrize('fmt', ['zip', 'legacy'])
def test_honest_checkpoints_of_both_formats_load(tmp_path, fmt):
    """The scan reads what torch.save writes in either format, shared and
    empty storages included."""
    shared = torch.arange(12.0)
    state = {'a': shared, 'view': shared[3:7], 'empty': torch.zeros(0),
             'half': torch.ones(3, dtype=torch.float16),
             'long': torch.arange(5), 'bool': torch.tensor([True])}
    path = str(tmp_path / f'{fmt}.pth')
    torch.save({'state_dict': state, 'meta': {'epoch': 1}}, path,
               _use_new_zipfile_serialization=fmt == 'zip')
    loaded = load_checkpoint_file(path)['state_dict']
    for key, value in state.items():
        assert torch.equal(loaded[key], value), key


def test_a_model_budget_refuses_more_than_it_allows(tmp_path):
    path = str(tmp_path / 'big.pth')
    torch.save({'state_dict': {'w': torch.zeros(1000)}}, path)
    assert load_checkpoint_file(path, max_bytes=4000)['state_dict'][
        'w'].numel() == 1000
    with pytest.raises(CheckpointLoadError,
                       match=r'big.pth: its storages declare 4,000 bytes, '
                       r'more than the 3,999 allowed'):
        load_checkpoint_file(path, max_bytes=3999)


@pytest.mark.parametrize('nbytes', [64 << 20])
def test_bombs_are_named_for_what_they_declare(tmp_path, nbytes):
    bomb = write_deflated_bomb(str(tmp_path / 'bomb.pth'), nbytes)
    with pytest.raises(CheckpointLoadError,
                       match=r"bomb.pth: zip record '.*data/0' is compressed"
                       r'.*67,108,864 bytes its header declares'):
        load_checkpoint_file(bomb)
    sparse = write_sparse_legacy(str(tmp_path / 'sparse.pth'), nbytes)
    with pytest.raises(CheckpointLoadError,
                       match=r'sparse.pth: it is a sparse file'):
        load_checkpoint_file(sparse)


def test_the_opcode_bound_is_far_above_a_real_checkpoint():
    """A checkpoint of tools/train.py on the tiny embedded config has ~7,600
    opcodes; a ResNet-50 recognizer's state dict, optimizer state included,
    far less than the bound."""
    assert MAX_PICKLE_OPCODES >= 250_000
