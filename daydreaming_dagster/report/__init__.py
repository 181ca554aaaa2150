"""The static HTML report of a run (``daydreaming report``): an overview that starts with the
headline answer, a matrix of every generation, a page per generation with its judges' answers,
and the list of earlier runs. It reads the files under ``data/`` and writes HTML and ``.js``
data under ``data/06_summary/report/``; it opens from disk and fetches nothing.

Layer: above ``records`` (it reads the files through ``DataLayout``), below everything that
runs Dagster; it never imports ``orchestration`` or ``console``.
"""
