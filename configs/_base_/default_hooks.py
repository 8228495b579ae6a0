# MMAction2's default hooks and log processor, for epoch-based schedules.
# Inherited by the files in _base_/schedules/, which adapt them (an
# iteration-based schedule sets by_epoch=False on the checkpoint hook and
# the log processor).
default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # atomic writes: a kill while saving never corrupts the latest one
    checkpoint=dict(
        type='AtomicCheckpointHook', interval=1, save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'))

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)
