"""What to run: the experiment's knobs, settable from run config or the `daydreaming` command."""

from dagster import ConfigurableResource
from pydantic import Field


class ExperimentConfig(ConfigurableResource):
    """Selection and prompt settings shared by the setup assets.

    Override any field at launch time, e.g. in the launchpad or with ``--config-json``::

        {"resources": {"experiment_config": {"config": {"k_max": 2}}}}
    """

    k_max: int = Field(default=4, description="Number of concepts in each combination.")
    description_level: str = Field(
        default="paragraph",
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
        default=1,
        description="Answers per generation task; above 1, task ids and partition keys end in "
        "_r<n>.",
    )
    evaluation_replicates: int = Field(
        default=1,
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
