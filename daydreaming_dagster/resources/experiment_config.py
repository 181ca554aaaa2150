"""What to run: the experiment's knobs, settable from run config or the `daydreaming` command."""

from dagster import ConfigurableResource
from pydantic import Field

from ..experiment.task_tables import TableSettings

DEFAULTS = TableSettings()  # one set of defaults, shared with `daydreaming estimate`


class ExperimentConfig(ConfigurableResource):
    """Selection and prompt settings shared by the setup assets.

    Override any field at launch time, e.g. in the launchpad or with ``--config-json``::

        {"resources": {"experiment_config": {"config": {"k_max": 2}}}}
    """

    k_max: int = Field(
        default=DEFAULTS.k_max, description="Number of concepts in each combination."
    )
    description_level: str = Field(
        default=DEFAULTS.description_level,
        description="Concept description shown to generators: sentence, paragraph or article "
        "(a missing level falls back to the next shorter one).",
    )
    concept_ids_filter: list[str] | None = Field(
        default=None, description="Only these concept ids (None = all concepts)."
    )
    template_names_filter: list[str] | None = Field(
        default=None, description="Only these generation templates (None = all templates)."
    )
    generation_replicates: int = Field(
        default=DEFAULTS.generation_replicates,
        description="Answers per generation task; above 1, task ids and partition keys end in "
        "_r<n>.",
    )
    evaluation_replicates: int = Field(
        default=DEFAULTS.evaluation_replicates,
        description="Judgements per (generation, template, judge); above 1, ids end in _r<n>.",
    )
    max_unparsed_share: float = Field(
        default=0.05,
        description="Parse-health check warns when more than this share of judge answers has no "
        "readable score.",
    )
    max_truncated_share: float = Field(
        default=0.10,
        description="Parse-health check warns when more than this share of generation answers "
        "stopped at max_tokens.",
    )

    def table_settings(self) -> TableSettings:
        """The selection as the task tables are built from it."""
        return TableSettings(
            k_max=self.k_max,
            description_level=self.description_level,
            concept_ids=tuple(self.concept_ids_filter) if self.concept_ids_filter else None,
            template_names=(
                tuple(self.template_names_filter) if self.template_names_filter else None
            ),
            generation_replicates=self.generation_replicates,
            evaluation_replicates=self.evaluation_replicates,
        )
