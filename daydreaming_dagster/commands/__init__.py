"""The subcommands besides ``run`` and ``estimate``, one small module each (as Inspect AI's
``_cli`` does): ``add_parser`` declares its options, ``main`` hands them to ``console``.

Nothing heavy is imported until a command runs, so ``daydreaming --help`` stays instant.
"""

from __future__ import annotations

from . import cache, mock_server, report, view

COMMANDS = {module.NAME: module for module in (report, view, cache, mock_server)}
