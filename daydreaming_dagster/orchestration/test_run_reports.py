from types import SimpleNamespace

from daydreaming_dagster.llm_calls.budget import Prices
from daydreaming_dagster.orchestration.cost_estimate import ModelEstimate, Plan, format_estimate
from daydreaming_dagster.orchestration.run_reports import (
    StageReport,
    format_cost,
    format_spent,
    format_usage,
    usage_by_model,
)
from daydreaming_dagster.records.data_layout import write_json_atomic


def write_records(folder, model, costs):
    for i, cost in enumerate(costs):
        record = {"requested_model": model, "prompt_tokens": 10, "completion_tokens": 5}
        record["cost_usd"] = cost
        write_json_atomic(folder / f"{model.replace('/', '_')}_{i}.json", record)


def usage_lines(tmp_path) -> dict[str, str]:
    table = format_usage(usage_by_model([tmp_path]))
    return {line.split()[0]: line for line in table.splitlines()[1:]}


def test_a_model_without_any_known_cost_shows_unknown_not_zero(tmp_path):
    write_records(tmp_path, "local-model", [None, None])
    lines = usage_lines(tmp_path)
    assert lines["local-model"].split()[1:] == ["2", "20", "10", "unknown"]
    assert lines["total"].endswith("unknown")
    assert "$0.0000" not in format_usage(usage_by_model([tmp_path]))


def test_a_mix_shows_the_known_part_with_a_marker(tmp_path):
    write_records(tmp_path, "paid", [0.25, 0.5])
    write_records(tmp_path, "mixed", [0.125, None])
    write_records(tmp_path, "local", [None])
    lines = usage_lines(tmp_path)
    assert lines["paid"].endswith("$0.7500")
    assert lines["mixed"].endswith("$0.1250+?")
    assert lines["local"].endswith("unknown")
    assert lines["total"].endswith("$0.8750+?")
    assert lines["unknown"].strip().startswith("unknown / +?:")  # the explanation line


def test_only_known_costs_have_no_marker(tmp_path):
    write_records(tmp_path, "free", [0.0])
    table = format_usage(usage_by_model([tmp_path]))
    assert "$0.0000" in table and "+?" not in table and "unknown" not in table


def test_format_cost():
    assert format_cost(0.0, 3, 3) == "unknown"
    assert format_cost(0.0, 3, 0) == "$0.0000"
    assert format_cost(1.5, 3, 1) == "$1.5000+?"


def test_the_estimate_says_no_price_for_a_model_without_prices():
    local = ModelEstimate("generation", "local-model", tasks=1, calls=1, prompt_tokens=100)
    priced = ModelEstimate("generation", "paid", tasks=1, calls=1, prices=Prices(1.0, 2.0))
    status = SimpleNamespace(set_aside_generations=0, set_aside_evaluations=0)
    table = format_estimate(Plan([local, priced], status))
    row = next(line for line in table.splitlines() if line.startswith("generation local-model"))
    assert row.split()[-4:] == ["no", "price", "no", "price"]
    total = next(line for line in table.splitlines() if line.startswith("total"))
    assert total.endswith("no price")


def test_a_run_whose_calls_have_no_known_cost_spent_unknown_not_zero():
    local = StageReport("generation", called=2, unpriced_calls=2)
    paid = StageReport("evaluation", called=3, charged_usd=0.5)
    reused = StageReport("evaluation", reused=4)
    assert local.spent == "unknown"
    assert paid.spent == "$0.5000"
    assert reused.spent == "$0.0000"  # nothing was called: nothing was spent
    assert format_spent(0.5, [local, paid]) == "$0.5000+?"
    assert format_spent(0.0, [local, reused]) == "unknown"
