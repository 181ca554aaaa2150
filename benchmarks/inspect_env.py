"""A Python environment for Inspect AI, apart from the project's.

Each system is measured as its users would install it. Inspect brings aiohttp, and `openai`
imports aiohttp whenever it is installed: in the project's own environment, that cost every
``daydreaming`` process 0.2 s and 8 MB that no user of the pipeline alone pays. So the
``bench`` dependency group (Inspect, `openai`, Jinja, at the versions in ``uv.lock``) goes into
a virtual environment of its own under the benchmark's scratch folder, with its bytecode
compiled at install as the project's is (``uv sync --compile-bytecode``): otherwise Inspect's
first measured run would spend seconds compiling.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GROUP = "bench"


class InspectEnvironmentError(RuntimeError):
    """The environment for Inspect could not be made; the message says why and what to do."""


def _uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        raise InspectEnvironmentError(
            "uv is not on PATH; it installs Inspect AI for the comparison. Install uv "
            "(https://docs.astral.sh/uv/), or pass --skip-inspect."
        )
    return found


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-6:])
        raise InspectEnvironmentError(
            f"{what} failed (exit {done.returncode}):\n{tail}\n"
            "The package registry must be reachable once (uv caches the packages); "
            "or pass --skip-inspect."
        )


def inspect_python(scratch: Path) -> str:
    """The interpreter of a fresh environment holding the locked ``bench`` group."""
    uv = _uv()
    requirements = scratch / "inspect-requirements.txt"
    venv = scratch / "inspect-venv"
    _run(
        [
            uv,
            "export",
            "--frozen",
            "--only-group",
            GROUP,
            "--no-hashes",
            "--no-emit-project",
            "--no-header",
            "--output-file",
            str(requirements),
        ],
        "Listing the locked Inspect AI packages (uv export)",
    )
    _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], "uv venv")
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--compile-bytecode",
            "--python",
            str(python),
            "-r",
            str(requirements),
        ],
        "Installing Inspect AI (uv pip install)",
    )
    return str(python)
