# Runtime settings shared by every a2mm config: MMAction2's default_runtime,
# plus `custom_imports` so that the runner registers a2mm's modules.
# The hooks and the log processor depend on whether the schedule counts
# epochs or iterations, so they come with the schedule
# (_base_/schedules/*.py inherit _base_/default_hooks.py); a model config
# inherits [model, dataset, schedule, default_runtime] without duplicate keys.
default_scope = 'mmaction'
custom_imports = dict(imports=['a2mm'], allow_failed_imports=False)

# backend='nccl' is the GPU default; tools/train.py and tools/test.py switch
# it to 'gloo' by themselves when CUDA is not available
# (a2mm.utils.dist.setup_cpu_distributed), so the same config runs under
# `torchrun` on a CPU-only machine.
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False

# Fault tolerance (docs/robustness.md): report bad videos (training replaces
# them; testing with skip_bad_videos=True reports the skipped ones in the
# metrics), re-seed every iteration so that a resumed run is exact, and
# check a loaded checkpoint against the model before copying its weights.
custom_hooks = [
    dict(type='BadVideoHook'),
    dict(type='ResumeSeedHook'),
    dict(type='CheckpointShapeCheckHook'),
    # Mixed precision: MMAction2 calls .numpy() on the head's scores,
    # which fails for bfloat16; this hands it float32 scores
    # (a2mm/engine/hooks/float32_scores_hook.py, docs/train_test.md).
    dict(type='Float32ScoresHook')
]
