"""Partition keys <-> flat, portable file names.

Keys hold model ids such as ``deepseek/deepseek-r1:free``; ``/`` would create folders and ``:``
is illegal on Windows. Percent-encoding every character outside ``[A-Za-z0-9_.-~]`` is one-to-one,
so a file name always maps back to exactly one key.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote, unquote


# A task's answer and record are found by the same key, one after the other: quoted once.
@lru_cache(maxsize=4096)
def key_to_file_stem(partition_key: str) -> str:
    """``combo_001_x_deepseek/deepseek-r1:free`` -> ``combo_001_x_deepseek%2Fdeepseek-r1%3Afree``"""
    if not partition_key:
        raise ValueError("A partition key must not be empty.")
    return quote(partition_key, safe="")


def file_stem_to_key(file_stem: str) -> str:
    """Inverse of :func:`key_to_file_stem`."""
    return unquote(file_stem)
