"""Build and install the `libtractor` Python package (offline).

    pip install --no-build-isolation ./bindings/python

The extension is generated with SWIG from tractor.i, compiled with the C
files next to it (py_*.c) and linked against libtractor.so, looked up in
this order:

  1. $TRACTOR_PREFIX (include/ and lib/ below it, e.g. an installed prefix),
  2. pkg-config `tractor` (after `make install`),
  3. this source tree: ../../include and the CMake build dir
     ($TRACTOR_BUILD_DIR, default ../../build; run `make` first).

The library directory is recorded as the extension's rpath, so the
installed package finds libtractor.so without LD_LIBRARY_PATH.
"""
from __future__ import annotations

import os
import shutil
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
# compiled with the SWIG wrapper; tractor.i includes their headers (keep in
# sync with TR_PY_C_SOURCES in CMakeLists.txt)
C_SOURCES = ["py_errors.c", "py_sigint.c", "py_tasks.c", "py_values.c"]


def _pkg_config(*args: str) -> list[str]:
    try:
        out = subprocess.run(["pkg-config", *args, "tractor"], check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    return out.split()


def _locate() -> tuple[list[str], list[str]]:
    prefix = os.environ.get("TRACTOR_PREFIX")
    if prefix:
        libdir = next((os.path.join(prefix, d) for d in ("lib", "lib64", "lib/x86_64-linux-gnu")
                       if os.path.exists(os.path.join(prefix, d, "libtractor.so"))),
                      os.path.join(prefix, "lib"))
        return [os.path.join(prefix, "include")], [libdir]
    cflags = _pkg_config("--cflags-only-I")
    libs = _pkg_config("--libs-only-L")
    if cflags or libs:
        return [f[2:] for f in cflags], [f[2:] for f in libs]
    build = os.environ.get("TRACTOR_BUILD_DIR", os.path.join(ROOT, "build"))
    libdir = os.path.join(build, "lib")
    if not os.path.exists(os.path.join(libdir, "libtractor.so")):
        raise SystemExit(f"libtractor.so not found in {libdir}: build the project first "
                         "(make), or set TRACTOR_PREFIX / TRACTOR_BUILD_DIR")
    return [os.path.join(ROOT, "include")], [libdir]


class SwigBuildExt(build_ext):
    """Run SWIG into the build directory (the source tree stays clean)."""

    def build_extension(self, ext: Extension) -> None:
        swig = shutil.which("swig4.0") or shutil.which("swig")
        if not swig:
            raise SystemExit("swig not found (Debian: apt-get install swig)")
        os.makedirs(self.build_temp, exist_ok=True)
        wrap = os.path.join(self.build_temp, "tractorPYTHON_wrap.c")
        incs = [f"-I{d}" for d in ext.include_dirs]
        subprocess.run([swig, "-python", "-O", *incs, "-outdir", self.build_temp, "-o", wrap,
                        os.path.join(HERE, "tractor.i")], check=True)
        ext.sources = [wrap, *(os.path.join(HERE, src) for src in C_SOURCES)]
        super().build_extension(ext)


include_dirs, library_dirs = _locate()

setup(
    name="libtractor",
    version="0.1.0",
    description="Python binding of libtractor, a multi-process actor runtime "
                "speaking Python tractor's protocol",
    packages=["libtractor"],
    package_dir={"libtractor": os.path.join(HERE, "libtractor")},
    python_requires=">=3.11",
    ext_modules=[Extension(
        "libtractor._tractor_c",
        sources=["tractor.i", *C_SOURCES],
        include_dirs=[HERE, *include_dirs],
        library_dirs=library_dirs,
        runtime_library_dirs=library_dirs,
        libraries=["tractor"],
        define_macros=[("_GNU_SOURCE", None)],
        extra_compile_args=["-Wno-unused-parameter"],
    )],
    cmdclass={"build_ext": SwigBuildExt},
)
