"""The message when a server of ours (the report viewer, the mock endpoint) cannot listen."""

from __future__ import annotations

import errno


def cannot_serve(host: str, port: int, exc: OSError) -> str:
    """What went wrong and what to do: most often the port is taken by a server started
    earlier, which a bare "Address already in use" does not say."""
    message = f"Cannot serve on {host}:{port}: {exc.strerror or exc}."
    if exc.errno == errno.EADDRINUSE:
        return (
            f"{message} Another server (one started earlier?) is using that port: stop it, "
            "or pick another port with --port N."
        )
    return f"{message} Pick another address with --host, or another port with --port N."
