"""``AtomicCheckpointHook``: MMEngine's ``CheckpointHook`` whose latest
checkpoint survives a kill at any moment.

What goes wrong upstream (MMEngine 0.10.7,
``CheckpointHook._save_checkpoint_with_step``), when the process is killed
(SIGKILL, out of memory, a pre-empted node) while it saves:

1. the oldest kept checkpoint is deleted *before* the new one is written, so
   with ``max_keep_ckpts=1`` a kill during the write leaves no checkpoint at
   all, and ``last_checkpoint`` names a deleted file;
2. ``torch.save`` output goes straight to ``iter_N.pth``, so a kill leaves a
   truncated file under a name that looks complete
   (``--resume work_dirs/x/iter_N.pth`` then fails deep in the unpickler);
3. ``last_checkpoint`` is rewritten in place (truncate, then write): a kill in
   between leaves it empty, and ``--resume`` (auto) fails;
4. ``CheckpointHook._save_best_checkpoint`` (``save_best``) deletes the
   previous ``best_*.pth`` *before* writing the new one in place: a kill
   during that save leaves no loadable best checkpoint at all.

Here the new checkpoint is written to a hidden ``.iter_N.pth.part`` file,
flushed, and renamed to ``iter_N.pth`` with ``os.replace`` (atomic on POSIX
and Windows); ``last_checkpoint`` is replaced the same way; only then are
checkpoints beyond ``max_keep_ckpts`` deleted. At every instant,
``last_checkpoint`` names a complete checkpoint. Leftover ``.part`` files of
a killed save are removed when training starts again. The best checkpoint
is written the same way (``.best_<key>_iter_N.pth.part``, renamed), the
regular checkpoint is saved again to record it (as the parent does), and only
then is the previous best deleted: at every instant a complete best
checkpoint exists, and the one the saved message hub names exists. (A kill
between the rename and that second save leaves both bests on disk; the
resumed run tracks and later replaces the older one, the newer one stays.)

Everything else (intervals, the ``best_<key>_<filename>`` names, the
``best_score``/``best_ckpt`` message-hub info and their per-key variants,
``max_keep_ckpts`` bookkeeping, ``published_keys``) is the parent's.
Non-local backends (e.g. Petrel) keep the parent's behaviour: a rename is not
atomic there.
"""
import glob
import os
import os.path as osp
from typing import List

from mmaction.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook

__all__ = ['AtomicCheckpointHook', 'atomic_write_bytes', 'publish_file']

PART_SUFFIX = '.part'


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_file(tmp_path: str, path: str) -> None:
    """Flush ``tmp_path`` to disk and rename it to ``path`` atomically: a
    reader sees the old ``path`` or the complete new one, never a part."""
    _fsync(tmp_path)
    os.replace(tmp_path, path)
    if os.name == 'posix':  # make the rename itself durable
        _fsync(osp.dirname(osp.abspath(path)))


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same
    directory and :func:`publish_file`."""
    tmp_path = osp.join(
        osp.dirname(osp.abspath(path)), f'.{osp.basename(path)}{PART_SUFFIX}')
    with open(tmp_path, 'wb') as f:
        f.write(data)
    publish_file(tmp_path, path)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` that writes checkpoints and ``last_checkpoint``
    atomically and deletes old checkpoints only after the new one is in
    place. Takes exactly the arguments of MMEngine's ``CheckpointHook``.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process() and isinstance(self.file_backend, LocalBackend):
            for stale in glob.glob(
                    osp.join(self.out_dir, f'.*{PART_SUFFIX}')):
                os.remove(stale)  # a save that was killed half-way
                runner.logger.warning(
                    f'removed {stale}: a checkpoint whose save was '
                    'interrupted')

    def _outdated(self, runner, step: int) -> List[str]:
        """The parent's ``max_keep_ckpts`` bookkeeping, but return the
        checkpoints to delete instead of deleting them now."""
        if self.max_keep_ckpts <= 0 or (self.keep_ckpt_ids
                                        and self.keep_ckpt_ids[-1] == step):
            return []
        outdated = []
        if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
            old_step = self.keep_ckpt_ids.popleft()
            outdated.append(
                self.file_backend.join_path(
                    self.out_dir, self.filename_tmpl.format(old_step)))
        self.keep_ckpt_ids.append(step)
        runner.message_hub.update_info('keep_ckpt_ids',
                                       list(self.keep_ckpt_ids))
        return outdated

    def _remove(self, path: str) -> bool:
        """Delete a checkpoint file (or a DeepSpeed checkpoint folder);
        True when there was one."""
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):
            self.file_backend.rmtree(path)
        else:
            return False
        return True

    def _save_atomically(self, runner, filename: str, **kwargs) -> str:
        """``runner.save_checkpoint`` into ``.<filename>.part``, then (main
        process) rename it to ``<filename>``; returns that path."""
        part_name = f'.{filename}{PART_SUFFIX}'
        runner.save_checkpoint(
            self.out_dir, part_name, self.file_client_args,
            backend_args=self.backend_args, **kwargs)
        path = self.file_backend.join_path(self.out_dir, filename)
        if is_main_process():
            publish_file(osp.join(self.out_dir, part_name), path)
        return path

    def _save_checkpoint_with_step(self, runner, step, meta):
        if not isinstance(self.file_backend, LocalBackend):
            return super()._save_checkpoint_with_step(runner, step, meta)
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        outdated = self._outdated(runner, step)

        self._save_atomically(
            runner, filename,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            **self.args)
        if not is_main_process():
            return
        atomic_write_bytes(
            osp.join(runner.work_dir, 'last_checkpoint'),
            self.last_ckpt.encode())
        for path in outdated:
            self._remove(path)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """The parent's ``save_best``: same rules, file names and
        message-hub info, but the previous best is deleted only once the
        new one is complete and recorded (see the module docstring)."""
        if not self.save_best:
            return
        if not isinstance(self.file_backend, LocalBackend):
            return super()._save_best_checkpoint(runner, metrics)
        step = runner.epoch if self.by_epoch else runner.iter
        filename = self.filename_tmpl.format(step)
        meta = dict(epoch=runner.epoch, iter=runner.iter)
        if 'auto' in self.key_indicators:  # as the parent: the first metric
            self._init_rule(self.rules, [list(metrics.keys())[0]])
        single = len(self.key_indicators) == 1
        updated, previous = False, []
        hub = runner.message_hub
        for key, rule in zip(self.key_indicators, self.rules):
            suffix = '' if single else f'_{key}'
            score_key, path_key = f'best_score{suffix}', f'best_ckpt{suffix}'
            best = (hub.get_info(score_key) if score_key in hub.runtime_info
                    else self.init_value_map[rule])
            score = metrics[key]
            if score is None or not self.is_better_than[key](score, best):
                continue
            updated = True
            hub.update_info(score_key, score)
            old = (self.best_ckpt_path if single
                   else self.best_ckpt_path_dict[key])
            name = f'best_{key}_{filename}'.replace('/', '_')
            path = self._save_atomically(
                runner, name, save_optimizer=False,
                save_param_scheduler=False, meta=meta, by_epoch=False)
            if single:
                self.best_ckpt_path = path
            else:
                self.best_ckpt_path_dict[key] = path
            hub.update_info(path_key, path)
            runner.logger.info(
                f'The best checkpoint with {score:0.4f} {key} at {step} '
                f'{"epoch" if self.by_epoch else "iter"} is saved to {name}.')
            if old and old != path:
                previous.append(old)
        # as the parent: save the regular checkpoint again so that its
        # message hub names the new best (a resume then deletes that one)
        if updated and self.last_ckpt is not None:
            self._save_checkpoint_with_step(runner, step, meta)
        if is_main_process():
            for old in previous:
                if self._remove(old):
                    runner.logger.info(
                        f'The previous best checkpoint {old} is removed')
