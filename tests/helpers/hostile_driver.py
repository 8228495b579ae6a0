"""Feed every file of a hostile corpus to every entry point that loads a
checkpoint, in one process, and write what each did as JSON.

Run by tests/tools/test_hostile_checkpoints.py as a subprocess
(``python -m tests.helpers.hostile_driver SPEC_JSON OUT_JSON``), so that an
interpreter crash (SIGSEGV) or a hang is the test's failure, not the end of
pytest. Each call runs under a 60 s alarm; the line printed before each
call names the entry point and file, so a crash points at its cause.
"""
import json
import os
import os.path as osp
import resource
import signal
import sys
import time
import traceback
from typing import Callable, Dict

from tests.helpers.tools import load_tool

#: seconds one entry point may take on one file
CALL_TIMEOUT = 60


def _alarm(signum, frame):
    raise TimeoutError(f'no answer within {CALL_TIMEOUT} s')


def _runner_entry(tool, argv: Callable[[str], list]) -> Callable:
    """The first file through the tool's ``main`` (parsing, config, Runner,
    ``train()``/``test()``); every other through ``load_or_resume`` of one
    Runner built as ``main`` builds it: the step of ``train()``/``test()``
    that loads (building a Runner per file would take minutes)."""
    from mmengine.config import Config
    from mmengine.runner import Runner
    state = {}

    def load(path: str) -> None:
        if not state:
            state['first'] = path
            return tool.main(argv(path))
        if 'runner' not in state:
            args = tool.parse_args(argv(state['first']))
            state['runner'] = Runner.from_cfg(
                tool.merge_args(Config.fromfile(args.config), args))
        runner = state['runner']
        runner._load_from, runner._has_loaded = path, False
        runner.load_or_resume()

    return load


def entry_points(spec: dict) -> Dict[str, Callable[[str], object]]:
    """name -> a function that loads a checkpoint path the way that entry
    point does."""
    from mmaction.apis.inferencers import ActionRecogInferencer
    from mmaction.registry import MODELS
    from mmengine.config import Config

    import a2mm  # noqa: F401
    from a2mm.apis import init_model

    config, work = spec['config'], spec['work_dir']
    tools = {name: load_tool(path) for name, path in (
        ('test', 'tools/test.py'), ('train', 'tools/train.py'),
        ('demo', 'tools/demo.py'),
        ('export', 'tools/deployment/export_onnx.py'),
        ('visualize', 'tools/analysis/visualize_attention.py'))}
    backbone = Config.fromfile(config).model.backbone.to_dict()

    def build_backbone(path: str, **extra) -> None:
        MODELS.build(dict(backbone, pretrained=path, **extra)).init_weights()

    return {
        'tools/test.py': _runner_entry(
            tools['test'], lambda p: [config, p, '--work-dir', work]),
        # one work dir per training entry point: a training run holds its
        # work dir's lock for the life of the process (work_dir_lock.py)
        'tools/train.py --resume': _runner_entry(
            tools['train'], lambda p: [
                config, '--work-dir', osp.join(work, 'resume'), '--resume', p
            ]),
        'load_from (train)': _runner_entry(
            tools['train'], lambda p: [
                config, '--work-dir', osp.join(work, 'load_from'),
                '--cfg-options', f'load_from={p}'
            ]),
        'tools/demo.py': lambda p: tools['demo'].main(
            [config, p, spec['video'], spec['labels']]),
        'export_onnx.py': lambda p: tools['export'].main(
            [config, p, '--out', osp.join(work, 'x.onnx')]),
        'visualize_attention.py': lambda p: tools['visualize'].main(
            [config, p, spec['video'], '--out', osp.join(work, 'a.png')]),
        'a2mm.apis.init_model': lambda p: init_model(config, p),
        'backbone pretrained=': build_backbone,
        'backbone pretrained2d': lambda p: build_backbone(
            p, pretrained2d=True),
        # MMEngine's BaseInferencer loads with _load_checkpoint and then
        # load_state_dict(strict=False), which skips what does not fit
        'mmaction ActionRecogInferencer': lambda p: ActionRecogInferencer(
            model=config, weights=p),
    }


def main(spec_file: str, out_file: str) -> None:
    with open(spec_file) as f:
        spec = json.load(f)
    signal.signal(signal.SIGALRM, _alarm)
    results = {}
    for name, load in entry_points(spec).items():
        results[name] = {}
        for kind, path in spec['corpus'].items():
            print(f'--> {name} {kind}', flush=True)
            signal.alarm(CALL_TIMEOUT)
            start = time.perf_counter()
            try:
                load(path)
                outcome = {'error': None}
            except BaseException as e:  # SystemExit too: argparse, tools
                outcome = {'error': type(e).__name__, 'message': str(e),
                           'trace': traceback.format_exc()[-3000:]}
            finally:
                signal.alarm(0)
            outcome['seconds'] = time.perf_counter() - start
            outcome['marker'] = osp.exists(spec['marker'])
            outcome['max_rss_mb'] = resource.getrusage(
                resource.RUSAGE_SELF).ru_maxrss // 1024
            results[name][kind] = outcome
    with open(out_file, 'w') as f:
        json.dump(results, f)


if __name__ == '__main__':
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    main(*sys.argv[1:])
