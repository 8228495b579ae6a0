"""a2mm.apis inference helpers: model building from config + checkpoint
(also a plain I3D checkpoint into the A² model fine-tuned from it), label
maps, video collection and top-k order."""
import logging

import pytest
import torch
from mmengine.logging import MMLogger

from a2mm.apis import (collect_videos, init_model, load_label_map,
                       predict_topk)
from tests.helpers.configs import config_value
from tests.helpers.data import make_label_map
from a2mm.models.backbones.a2_stages import a2_blocks_of
from tests.helpers.models import (A2_FROM_I3D, A2_FROM_I3D_BLOCKS, SMALL_R50,
                                  distinct_bias, fix_head_scores, random_clip,
                                  save_checkpoint, scores_of,
                                  trained_plain_i3d)


def test_topk_follows_checkpoint_scores(tmp_path, tiny_config, clip_video):
    """The head is fixed to score softmax(bias) whatever the input, so the
    top-k list must be the bias order with those probabilities."""
    num_classes = config_value('model.cls_head.num_classes')
    bias = distinct_bias(num_classes)
    model = init_model(tiny_config)
    fix_head_scores(model, bias)
    ckpt = save_checkpoint(model, str(tmp_path / 'tiny.pth'))
    labels = make_label_map(str(tmp_path / 'labels.txt'), num_classes)

    loaded = init_model(tiny_config, ckpt, cfg_options={'model.cls_head.'
                                                   'dropout_ratio': 0.0})
    top = predict_topk(loaded, clip_video, k=3, labels=labels)
    probs = torch.tensor(bias).softmax(0)
    order = torch.argsort(probs, descending=True)[:3].tolist()
    assert [p.index for p in top] == order
    assert [p.label for p in top] == [labels[i] for i in order]
    for p in top:
        assert p.score == pytest.approx(probs[p.index].item(), abs=1e-5)
    # A fresh model (no checkpoint) does not give these scores.
    fresh = predict_topk(init_model(tiny_config), clip_video, k=num_classes)
    assert fresh[0].score != pytest.approx(top[0].score, abs=1e-3)
    assert len(fresh) == num_classes
    with pytest.raises(ValueError, match=f'{num_classes - 1} labels'):
        predict_topk(loaded, clip_video, labels=labels[:-1])


def test_init_model_errors(tmp_path, tiny_config):
    with pytest.raises(FileNotFoundError, match='missing.py'):
        init_model(str(tmp_path / 'missing.py'))
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        init_model(tiny_config, str(tmp_path / 'nope.pth'))


def test_init_model_refuses_a_checkpoint_of_another_model(tmp_path,
                                                          tiny_config):
    """No weight fits: refused with the table, instead of predicting from
    random weights with one log line."""
    from a2mm.utils.checkpoint import CheckpointMismatchError
    path = str(tmp_path / 'other.pth')
    torch.save({'state_dict': {'fc.weight': torch.zeros(2, 2)}}, path)
    with pytest.raises(CheckpointMismatchError) as info:
        init_model(tiny_config, path)
    message = str(info.value)
    assert f'checkpoint {path} has no weights for this model' in message
    assert 'missing from the checkpoint' in message
    assert 'backbone.conv1.conv.weight' in message
    assert 'in the checkpoint but not in the model:\n  fc.weight' in message


def test_init_model_loads_a_partial_match_with_a_warning(tmp_path,
                                                         tiny_config):
    """The classifier of another dataset (shape differs) and an extra key:
    the rest is loaded, the warning names what was not."""
    model = init_model(tiny_config)
    state = model.state_dict()
    num_classes = config_value('model.cls_head.num_classes')
    state['cls_head.fc_cls.weight'] = torch.zeros(num_classes + 1, 4)
    state['extra.key'] = torch.zeros(1)
    with torch.no_grad():
        state['backbone.conv1.conv.weight'] = \
            state['backbone.conv1.conv.weight'] + 1
    path = str(tmp_path / 'partial.pth')
    torch.save({'state_dict': state}, path)
    with pytest.warns(UserWarning, match='partial.pth fits') as record:
        loaded = init_model(tiny_config, path)
    message = str(record[0].message)
    assert 'cls_head.fc_cls.weight: expected' in message
    assert 'extra.key' in message
    assert torch.equal(loaded.state_dict()['backbone.conv1.conv.weight'],
                       state['backbone.conv1.conv.weight'])


def test_label_map(tmp_path):
    # one implementation: the datasets' label-file rule
    from a2mm.datasets import load_label_map as datasets_load_label_map
    assert load_label_map is datasets_load_label_map
    path = tmp_path / 'labels.txt'
    path.write_text('walk\n run \n\n')
    assert load_label_map(path) == ['walk', 'run']
    path.write_text('\n')
    with pytest.raises(ValueError, match='no labels'):
        load_label_map(path)
    # the dataset's label_file rule: a blank line would shift the labels,
    # a class named twice is ambiguous; both name file and line
    path.write_text('walk\n\nrun\n')
    with pytest.raises(ValueError, match=r'labels.txt, line 2: empty'):
        load_label_map(path)
    path.write_text('walk\nrun\nwalk\n')
    with pytest.raises(ValueError, match=r"line 3: class 'walk' already"):
        load_label_map(path)
    path.write_bytes('walk\nrun\n'.encode('utf-16'))
    with pytest.raises(ValueError, match='is encoded as UTF-16'):
        load_label_map(path)


def test_collect_videos(tmp_path):
    folder = tmp_path / 'videos'
    folder.mkdir()
    for name in ('b.mp4', 'a.AVI', 'notes.txt'):
        (folder / name).write_bytes(b'')
    assert collect_videos(folder) == [
        str(folder / 'a.AVI'), str(folder / 'b.mp4')
    ]
    assert collect_videos(folder / 'b.mp4') == [str(folder / 'b.mp4')]
    listing = tmp_path / 'list.txt'
    listing.write_text(f'# clips\nvideos/b.mp4\n\n{folder / "a.AVI"}\n')
    assert collect_videos(listing) == [
        str(folder / 'b.mp4'), str(folder / 'a.AVI')
    ]
    listing.write_text('videos/b.mp4\nvideos/gone.mp4\n')
    with pytest.raises(FileNotFoundError, match='line 2'):
        collect_videos(listing)
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match='no video files'):
        collect_videos(empty)


class _Records(logging.Handler):

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append((record.levelno, record.getMessage()))


def test_init_model_from_plain_i3d_gives_its_scores(tmp_path):
    path = str(tmp_path / 'i3d_r50.pth')
    plain = trained_plain_i3d(path)
    assert not a2_blocks_of(plain)
    logger, records = MMLogger.get_current_instance(), _Records()
    logger.addHandler(records)
    try:
        model = init_model(A2_FROM_I3D, path, cfg_options=SMALL_R50)
    finally:
        logger.removeHandler(records)
    (level, log), = [r for r in records.records if 'tensors of' in r[1]]
    assert level == logging.INFO
    assert not [r for r in records.records if r[0] >= logging.WARNING]
    assert '5 new A² block(s) (initialised as identity)' in log
    assert all(name in log for name in A2_FROM_I3D_BLOCKS)
    assert 'missing' not in log
    blocks = a2_blocks_of(model)
    assert len(blocks) == 5
    clip = random_clip()
    expected = scores_of(plain, clip)
    assert (scores_of(model, clip) - expected).abs().max() <= 1e-5
    # not vacuous: the blocks do run, and they change the scores once trained
    with torch.no_grad():
        for block in blocks:
            block.out_proj_weight.normal_(0, 1.0)
    assert (scores_of(model, clip) - expected).abs().max() > 1e-3


@pytest.mark.parametrize('kind,shown', [
    ('numpy', 'numpy.ndarray'),
    ('meta', 'a tensor on the meta device'),
    ('string', 'backbone.conv1.conv.weight: str'),
    ('int_key', '7: a key of type int, not a string'),
])
def test_init_model_refuses_values_that_are_not_weights(tmp_path,
                                                        tiny_config, kind,
                                                        shown):
    """PyTorch skips them with a warning, so the model would predict from
    its random initial weights: refused, naming the keys and types."""
    from a2mm.utils.checkpoint import CheckpointMismatchError
    state = init_model(tiny_config).state_dict()
    key = 'backbone.conv1.conv.weight'
    if kind == 'numpy':
        state = {k: v.numpy() for k, v in state.items()}
    elif kind == 'meta':
        state[key] = state[key].to('meta')
    elif kind == 'string':
        state[key] = 'weights'
    else:
        state[7] = torch.zeros(1)
    path = str(tmp_path / f'{kind}.pth')
    torch.save({'state_dict': state}, path)
    with pytest.raises(CheckpointMismatchError,
                       match=f'{kind}.pth holds values that are not '
                       'weights') as info:
        init_model(tiny_config, path)
    assert shown in str(info.value)


def test_init_model_refuses_more_than_the_model_budget(tmp_path, tiny_config,
                                                       monkeypatch):
    """A checkpoint may declare four times the model's weights (weights,
    optimizer moments, an EMA copy) plus MODEL_MARGIN; more is refused
    before it is read (the margin is set to 0 here to keep the file
    small)."""
    from a2mm.utils.checkpoint import CheckpointLoadError, declared_sizes
    monkeypatch.setattr(declared_sizes, 'MODEL_MARGIN', 0)
    model = init_model(tiny_config)
    state = model.state_dict()
    weights = sum(t.numel() * t.element_size() for t in state.values())
    path = str(tmp_path / 'fat.pth')
    # the model's weights, and an optimizer state of 3x their size: fits
    extra = {'momentum': torch.zeros(3 * weights // 4)}
    torch.save({'state_dict': state, 'optimizer': extra}, path)
    init_model(tiny_config, path)
    extra = {'momentum': torch.zeros(3 * weights // 4 + 1024)}
    torch.save({'state_dict': state, 'optimizer': extra}, path)
    with pytest.raises(CheckpointLoadError,
                       match=f'refused checkpoint {path}: its storages '
                       'declare .* more than the .* allowed for this model'):
        init_model(tiny_config, path)
