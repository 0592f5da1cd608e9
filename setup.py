"""Build script: the list of Cython extensions (metadata lives in setup.cfg).

Every ``_*.pyx`` file under ``corpus_tools/`` and ``models/`` (and their subpackages,
e.g. ``models/memory/_memory.pyx`` -> ``models.memory._memory``) is compiled into an
extension module of the same dotted name. Kernels are built with ``-O3``; they use
BLAS through ``scipy.linalg.cython_blas`` (resolved at import time), so no BLAS
headers or link flags are needed here. ``models/core`` is on the include path for the
shared C header ``_simd.h``.
"""
from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).parent


def _extensions():
    exts = []
    for package in ("corpus_tools", "models"):
        for pyx in sorted((HERE / package).rglob("_*.pyx")):
            name = ".".join(pyx.relative_to(HERE).with_suffix("").parts)
            exts.append(
                Extension(
                    name,
                    [str(pyx.relative_to(HERE))],
                    include_dirs=[numpy.get_include(), str(HERE / "models" / "core")],
                    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                    extra_compile_args=["-O3"],
                )
            )
    return cythonize(
        exts,
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    )


setup(ext_modules=_extensions())
