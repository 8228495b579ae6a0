"""What ``import a2mm`` changes outside a2mm, exactly: the four work-arounds
of :mod:`a2mm.compat` and the fused pass's two custom ops, and nothing
else.

A fresh interpreter imports the upstream stack a2mm runs on, records the
identity of every attribute of every module of torch, MMEngine, MMCV and
MMAction2 (and of the classes they define, and the entries of their dicts),
the environment and ``sys.path``; then imports a2mm and lists what differs.
Registering a2mm's modules fills MMAction2's registries (instances, not
module attributes): that is what a2mm is for, and not listed here.
"""
import json
import subprocess
import sys

from a2mm.compat.mmaction_drn import DRN_MODULES, drn_is_missing

SNAPSHOT = r'''
import json, os, sys, types
import torch, mmengine.config, mmengine.runner, mmcv, mmaction.registry
import mmengine.config.utils
# what torch imports lazily when a custom op is defined (torch's own
# modules filling their own tables: not a2mm's doing)
import torch._dynamo, torch.library, torch._library.custom_ops
if sys.argv[1] == 'drn-present':  # else it fails until a2mm stands in
    import mmaction.models, mmaction.datasets, mmaction.evaluation
UPSTREAM = ('torch', 'mmengine', 'mmcv', 'mmaction')

def snapshot():
    """name -> id of each attribute (dict entries: name[key]; sets and
    lists also name#len); a dict seen under several names (MMEngine's
    MODULE2PACKAGE) is listed under the first name in sorted order."""
    owners, seen = {}, {}
    for name, module in sorted(sys.modules.items()):
        if name.split('.')[0] not in UPSTREAM or module is None:
            continue
        items = [(f'{name}.{a}', v) for a, v in vars(module).items()]
        items += [(f'{name}.{a}.{ca}', cv) for a, v in vars(module).items()
                  if isinstance(v, type) and v.__module__ == name
                  for ca, cv in vars(v).items()]
        for key, value in items:
            if key.rsplit('.', 1)[1].startswith('__') or isinstance(
                    value, types.ModuleType):
                continue
            seen[key] = id(value)
            if isinstance(value, (set, list)):
                seen[f'{key}#len'] = len(value)
            elif isinstance(value, dict) and owners.setdefault(
                    id(value), key) == key:
                for k, v in list(value.items()):
                    seen[f'{key}[{k!r}]'] = id(v)
    return seen

assert 'a2mm' not in sys.modules
before, env, path = snapshot(), dict(os.environ), list(sys.path)
modules = set(sys.modules)
import a2mm
after = snapshot()
changed = sorted(k for k in before if k in after and before[k] != after[k])
added = sorted(k for k in after if k not in before
               and k.rsplit('.', 1)[0] in {b.rsplit('.', 1)[0]
                                           for b in before})
new_modules = sorted(m for m in set(sys.modules) - modules
                     if m.split('.')[0] in UPSTREAM
                     and getattr(sys.modules[m], '__file__', None) is None)
print(json.dumps(dict(changed=changed, added=added, new_modules=new_modules,
                      env=env == dict(os.environ), path=path == sys.path)))
'''

#: what import a2mm changes, by a2mm/compat module
CHANGED = [
    # .config_paths: the ``pkg::`` config lookup
    'mmengine.config.config.Config._get_cfg_path',
    # .checkpoint_loader: MMEngine's loader for local paths (registering a
    # scheme rebuilds the table), and torch's weights_only allow-list
    'mmengine.runner.checkpoint.CheckpointLoader._schemes',
    "mmengine.runner.checkpoint.CheckpointLoader._schemes['']",
    'torch._weights_only_unpickler._marked_safe_globals_set',
    'torch._weights_only_unpickler._marked_safe_globals_set#len',
    # a2mm.models.blocks.a2_fused: the fused pass's two custom ops
    # (a2mm::a2_fused_forward/backward), registered as torch.compile needs
    'torch.library._defs#len',
    'torch.library._impls#len',
    'torch.ops._dir#len',
]
ADDED = [
    # .config_paths: the original kept, a2mm's scope known (one dict that
    # MMEngine also names PKG2PROJECT and imports into its registry)
    'mmengine.config.config.Config._a2mm_original_get_cfg_path',
    "mmengine.config.utils.MODULE2PACKAGE['a2mm']",
    # a2mm.models.blocks.a2_fused: the custom ops (not a compat patch)
    "torch._library.custom_ops.OPDEF_TO_LIB['a2mm::a2_fused_backward']",
    "torch._library.custom_ops.OPDEF_TO_LIB['a2mm::a2_fused_forward']",
]
#: what importing mmaction.models adds (MMEngine's current logger)
MODELS_IMPORT_LOGGER = (
    "mmengine.logging.logger.MMLogger._instance_dict['mmengine']")
#: TorchScript's table of builtins gains the two custom ops too, keyed by
#: the ids of their functions
BUILTIN_TABLE = 'torch.jit._builtins._builtin_table['


def import_a2mm_changes() -> dict:
    drn = 'drn-missing' if drn_is_missing() else 'drn-present'
    out = subprocess.run([sys.executable, '-c', SNAPSHOT, drn], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])


def test_import_a2mm_changes_exactly_the_compat_work_arounds():
    changes = import_a2mm_changes()
    assert changes['changed'] == sorted(CHANGED)
    builtins = [k for k in changes['added'] if k.startswith(BUILTIN_TABLE)]
    assert len(builtins) == 2
    # without DRN the snapshot cannot import MMAction2's models before a2mm
    # stands in for it; importing them creates MMEngine's 'mmengine' logger
    # (upstream's own doing, as it is on MMAction2 1.1.0 before a2mm)
    expected = ADDED + ([MODELS_IMPORT_LOGGER] if drn_is_missing() else [])
    assert sorted(set(changes['added']) - set(builtins)) == sorted(expected)
    # .mmaction_drn: stand-in modules, only for MMAction2 1.2.0's wheel
    expected = sorted(DRN_MODULES) if drn_is_missing() else []
    assert changes['new_modules'] == expected
    assert changes['env'] and changes['path']


def test_the_safe_globals_and_loader_are_a2mms():
    import torch
    from mmengine.runner.checkpoint import CheckpointLoader

    import a2mm  # noqa: F401
    from a2mm.utils.checkpoint import SAFE_GLOBALS, load_from_safe_local
    assert CheckpointLoader._schemes[''] is load_from_safe_local
    allowed = torch.serialization.get_safe_globals()
    assert all(entry in allowed for entry in SAFE_GLOBALS)
