from .budget import CostBudget, Prices, worst_case_prompt_tokens


def test_prices_cost_tokens_and_unknown_prices_give_none():
    assert Prices(1.0, 2.0).cost(1_000_000, 500_000) == 2.0
    assert Prices(None, 2.0).cost(10, 10) is None


def test_a_call_whose_worst_case_does_not_fit_waits_then_is_refused_when_alone():
    import threading

    budget = CostBudget(max_usd=1.0)
    assert budget.reserve(0.6)
    threading.Timer(0.05, lambda: budget.settle(0.6, 0.1)).start()
    assert budget.reserve(0.6)  # waited for the first call to settle at its real cost
    budget.settle(0.6, 0.6)
    assert not budget.reserve(0.6)  # nothing in flight: 0.7 spent + 0.6 does not fit
    assert abs(budget.spent - 0.7) < 1e-12


def test_no_cap_accepts_everything():
    assert CostBudget(None).reserve(1e9)


def test_worst_case_tokens_exceed_the_usual_estimate():
    assert worst_case_prompt_tokens("x" * 400) >= 100


def test_a_shared_budget_holds_across_instances_of_the_same_ledger(tmp_path):
    import threading

    from .budget import SharedCostBudget

    ledger = tmp_path / "ledger.json"
    first, second = SharedCostBudget(ledger, 1.0), SharedCostBudget(ledger, 1.0)
    assert first.reserve(0.6)
    threading.Timer(0.1, lambda: first.settle(0.6, 0.2)).start()
    assert second.reserve(0.6)  # waits for the other process's call to settle
    second.settle(0.6, 0.5)
    assert abs(first.spent - 0.7) < 1e-12
    assert not second.reserve(0.6)
