"""Where the experiment's files live, for assets that read files by task id."""

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from ..records.data_layout import DataLayout


class DataPathsResource(ConfigurableResource):
    data_root: str = Field(default="data", description="Folder holding 01_raw ... 06_summary.")

    @property
    def layout(self) -> DataLayout:
        return DataLayout(Path(self.data_root))
