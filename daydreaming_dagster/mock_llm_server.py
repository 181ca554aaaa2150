"""The local test server, by its historical name: see the ``mock_server`` package.

``python -m daydreaming_dagster.mock_llm_server`` serves it (as ``daydreaming mock-server``).
"""

from .mock_server import *  # noqa: F403 - this module is the package's public face
from .mock_server import __all__  # noqa: F401
from .mock_server.server import main

if __name__ == "__main__":
    main()
