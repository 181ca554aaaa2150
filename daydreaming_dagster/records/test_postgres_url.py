import pytest

from .postgres_url import PostgresUrlError, libpq_dsn, redacted, with_psycopg2


@pytest.mark.parametrize(
    "given",
    ["postgresql://u:p@h:5432/db", "postgres://u:p@h:5432/db", "postgresql+psycopg2://u:p@h/db"],
)
def test_a_plain_postgresql_url_means_psycopg2(given):
    url = with_psycopg2(given)
    assert url.startswith("postgresql+psycopg2://u:p@h")
    assert libpq_dsn(url).startswith("postgresql://u:p@h")


@pytest.mark.parametrize(
    "given",
    ["postgresql://u@/db?host=/run/postgresql", "postgresql:///db", "postgresql+psycopg://u@h/db"],
)
def test_a_socket_url_or_psycopg3s_name_is_taken_with_psycopg2(given):
    url = with_psycopg2(given)
    assert url.startswith("postgresql+psycopg2://") and url.endswith(given.partition("://")[2])
    assert libpq_dsn(url) == "postgresql://" + given.partition("://")[2]


@pytest.mark.parametrize(
    "given", ["mysql://u@h/db", "postgresql://u@h", "postgresql://u@h/", "h:5432/db", ""]
)
def test_an_unusable_url_is_refused_without_its_password(given):
    with pytest.raises(PostgresUrlError, match="must look like"):
        with_psycopg2(given.replace("u@", "u:hunter2@"))
    assert "hunter2" not in redacted("postgresql://u:hunter2@h/db")


def test_a_password_given_as_a_query_parameter_is_hidden_too():
    url = "postgresql://u@/db?host=/run/postgresql&password=hunter2&port=5433"
    assert redacted(url) == "postgresql://u@/db?host=/run/postgresql&password=***&port=5433"
    assert redacted("postgresql://u:hunter2@h/db?sslmode=require") == (
        "postgresql://u:***@h/db?sslmode=require"
    )
