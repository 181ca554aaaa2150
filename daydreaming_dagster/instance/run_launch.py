"""Submitting runs of a named job to the instance's run coordinator (private Dagster API).

This is what ``dagster job launch`` does, for several runs through one workspace: load the code
location the way the webserver and the daemon do (a gRPC code server for the module), make a
run of the job with its tags and run config, and hand it to ``instance.submit_run``. The run
coordinator configured in dagster.yaml then queues it (QueuedRunCoordinator: the daemon starts
it) or starts it at once, and the run launcher decides where it runs: a local process by
default, a container with Dagster's Docker or Kubernetes launchers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from dagster import DagsterInstance
from dagster._core.definitions.selector import JobSubsetSelector
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import ModuleTarget


@dataclass(frozen=True)
class RunRequestSpec:
    job_name: str
    tags: Mapping[str, str]
    run_config: Mapping[str, object]


class RunSubmitter:
    """One loaded code location; ``submit`` makes and submits one run of one of its jobs."""

    def __init__(self, instance: DagsterInstance, workspace: object):
        self._instance = instance
        self._workspace = workspace
        self._planned: dict[tuple[str, str], tuple] = {}

    def _job_and_plan(self, spec: RunRequestSpec):
        """The job and its execution plan, asked of the code server once per job and config
        (each question is a round trip of a second or more; the partition range is a tag)."""
        cache_key = (spec.job_name, repr(sorted(spec.run_config.items())))
        if cache_key not in self._planned:
            location = self._location()
            (repository,) = location.get_repositories().values()
            selector = JobSubsetSelector(
                location_name=location.name,
                repository_name=repository.name,
                job_name=spec.job_name,
                op_selection=None,
            )
            remote_job = location.get_job(selector)
            plan = location.get_execution_plan(
                remote_job,
                dict(spec.run_config),
                step_keys_to_execute=None,
                known_state=None,
                instance=self._instance,
            ).execution_plan_snapshot
            self._planned[cache_key] = (remote_job, plan, repository)
        return self._planned[cache_key]

    def _location(self):
        (location_name,) = self._workspace.code_location_names  # type: ignore[attr-defined]
        return self._workspace.get_code_location(location_name)  # type: ignore[attr-defined]

    def submit(self, spec: RunRequestSpec) -> str:
        remote_job, plan, repository = self._job_and_plan(spec)
        run = self._instance.create_run(
            job_name=spec.job_name,
            run_id=None,
            run_config=dict(spec.run_config),
            resolved_op_selection=None,
            step_keys_to_execute=plan.step_keys_to_execute,
            op_selection=None,
            status=None,
            root_run_id=None,
            parent_run_id=None,
            tags={**remote_job.tags, **spec.tags},
            job_snapshot=remote_job.job_snapshot,
            execution_plan_snapshot=plan,
            parent_job_snapshot=remote_job.parent_job_snapshot,
            remote_job_origin=remote_job.get_remote_origin(),
            job_code_origin=remote_job.get_python_origin(),
            asset_selection=None,
            asset_check_selection=None,
            asset_graph=repository.asset_graph,
        )
        self._instance.submit_run(run.run_id, self._workspace)  # type: ignore[arg-type]
        return run.run_id


@contextmanager
def code_location(
    instance: DagsterInstance, module_name: str, working_directory: str
) -> Iterator[RunSubmitter]:
    """The project's definitions module as a code location, open for submitting runs; the code
    server stops when the block ends (runs it launched go on in their own processes)."""
    target = ModuleTarget(
        module_name=module_name,
        attribute=None,
        working_directory=working_directory,
        location_name=None,
    )
    # The code server's own INFO lines would interleave with the command's progress line.
    with WorkspaceProcessContext(instance, target, code_server_log_level="CRITICAL") as context:
        workspace = context.create_request_context()
        errors = [
            entry.load_error
            for entry in workspace.get_code_location_entries().values()
            if entry.load_error is not None
        ]
        if errors:
            raise RuntimeError(f"The definitions could not be loaded: {errors[0].message}")
        yield RunSubmitter(instance, workspace)
