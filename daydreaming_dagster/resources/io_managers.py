"""Task and score tables as human-readable CSV files under the data root.

Partitioned prompts and answers are written by the batch LLM assets themselves (one .txt and
.json per partition), see assets/partition_batches.py.
"""

from pathlib import Path

import pandas as pd
from dagster import ConfigurableIOManager, InputContext, OutputContext

from ..records.data_layout import write_text_atomic


class CSVIOManager(ConfigurableIOManager):
    """DataFrames as ``<data_root>/<folder>/<asset name>.csv``."""

    data_root: str = "data"
    folder: str = "02_tasks"

    def _path(self, asset_name: str) -> Path:
        return Path(self.data_root) / self.folder / f"{asset_name}.csv"

    def handle_output(self, context: OutputContext, obj: pd.DataFrame) -> None:
        path = self._path(context.asset_key.path[-1])
        text = obj.to_csv(index=False)
        # An unchanged table keeps its file (and modification time), so later steps can tell
        # that nothing they depend on changed.
        if not (path.exists() and path.read_text(encoding="utf-8") == text):
            write_text_atomic(path, text)
        context.add_output_metadata({"path": str(path), "rows": len(obj)})

    def load_input(self, context: InputContext) -> pd.DataFrame:
        path = self._path(context.asset_key.path[-1])
        if not path.exists():
            raise FileNotFoundError(
                f"{path} does not exist: materialize the asset "
                f"'{context.asset_key.to_user_string()}' first."
            )
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
