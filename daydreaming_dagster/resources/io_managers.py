"""Human-readable storage: CSV tables and one text file per partition, under the data root."""

from pathlib import Path

import pandas as pd
from dagster import ConfigurableIOManager, InputContext, OutputContext

from ..data_layout import record_path, text_path, write_json_atomic, write_text_atomic
from .llm_client import LLMResponse


class CSVIOManager(ConfigurableIOManager):
    """DataFrames as ``<data_root>/<folder>/<asset name>.csv``."""

    data_root: str = "data"
    folder: str = "02_tasks"

    def _path(self, asset_name: str) -> Path:
        return Path(self.data_root) / self.folder / f"{asset_name}.csv"

    def handle_output(self, context: OutputContext, obj: pd.DataFrame) -> None:
        path = self._path(context.asset_key.path[-1])
        write_text_atomic(path, obj.to_csv(index=False))
        context.add_output_metadata({"path": str(path), "rows": len(obj)})

    def load_input(self, context: InputContext) -> pd.DataFrame:
        path = self._path(context.asset_key.path[-1])
        if not path.exists():
            raise FileNotFoundError(
                f"{path} does not exist: materialize the asset "
                f"'{context.asset_key.to_user_string()}' first."
            )
        return pd.read_csv(path, keep_default_na=False, na_values=[""])


class PartitionedTextIOManager(ConfigurableIOManager):
    """One ``.txt`` file per partition in a flat folder (keys mapped to safe file names).

    An ``LLMResponse`` output also writes its call record as ``.json`` beside the text, record
    first, so a text file on disk always has its record.
    """

    data_root: str = "data"
    folder: str

    def folder_path(self) -> Path:
        return Path(self.data_root) / self.folder

    def handle_output(self, context: OutputContext, obj: str | LLMResponse) -> None:
        key = context.partition_key
        if isinstance(obj, LLMResponse):
            write_json_atomic(record_path(self.folder_path(), key), obj.call_record())
            obj = obj.text
        path = text_path(self.folder_path(), key)
        write_text_atomic(path, obj)
        context.add_output_metadata({"path": str(path), "chars": len(obj)})

    def load_input(self, context: InputContext) -> str:
        key = context.partition_key
        path = text_path(self.folder_path(), key)
        if not path.exists():
            raise FileNotFoundError(
                f"{path} does not exist: materialize '{context.asset_key.to_user_string()}' "
                f"for partition '{key}' first."
            )
        return path.read_text(encoding="utf-8")
