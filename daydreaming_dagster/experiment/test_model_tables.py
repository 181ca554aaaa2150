import pandas as pd

from .model_tables import concurrency_limits, price_table


def test_prices_and_limits_come_from_optional_columns():
    models = pd.DataFrame(
        {
            "model": ["a", "b"],
            "input_usd_per_mtok": [0.3, None],
            "output_usd_per_mtok": [2.5, None],
            "max_concurrency": [4, None],
        }
    )
    assert price_table(models) == {"a": (0.3, 2.5), "b": (None, None)}
    assert concurrency_limits(models, default=16) == {"a": 4, "b": 16}
    assert concurrency_limits(models.drop(columns="max_concurrency"), 16) == {"a": 16, "b": 16}
