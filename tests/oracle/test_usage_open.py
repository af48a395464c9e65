"""Opening a usage store: one that does not exist is an error and is not created; creating one is
explicit; every bad URL or unreachable database is one line naming the URL (password masked)."""

import sqlite3

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.passes import IN_PROCESS
from vvv.oracle.usage import UsageError, UsageStore

pytestmark = pytest.mark.one_pass(IN_PROCESS)  # no chain: runs once, in-process (tests/passes.py)

HINT = "(pass --create-usage-db to create it)"


def fails(url, **options):
    """The one-line error of opening `url`."""
    with pytest.raises(UsageError) as err:
        UsageStore(url, **options)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_a_missing_sqlite_file_is_an_error_and_is_not_created(tmp_path):
    path = tmp_path / "usgae.db"
    assert fails(f"sqlite:///{path}") == f"usage store sqlite:///{path} does not exist {HINT}"
    assert not path.exists()


def test_create_makes_the_file_and_the_tables(tmp_path):
    path = tmp_path / "usage.db"
    UsageStore(f"sqlite:///{path}", create=True)
    assert path.exists()
    tables = inspect(create_engine(f"sqlite:///{path}")).get_table_names()
    assert tables == ["activity_receipts", "api_calls"]
    assert UsageStore(f"sqlite:///{path}").count() == 0  # now it opens without create


def test_a_missing_folder_is_an_error_even_with_create(tmp_path):
    url = f"sqlite:///{tmp_path}/no/such/usage.db"
    assert fails(url, create=True) == f"usage store {url}: the folder {tmp_path}/no/such does not exist"
    assert not (tmp_path / "no").exists()


def test_a_sqlite_file_without_the_table_is_an_error(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (x)")
    before = path.read_bytes()
    assert fails(f"sqlite:///{path}") == f"usage store sqlite:///{path} has no usage table (api_calls) {HINT}"
    assert path.read_bytes() == before


def test_a_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "usage.db"
    path.write_text("timestamp,account\n" * 100)
    assert fails(f"sqlite:///{path}") == f"usage store sqlite:///{path}: file is not a database"


def test_a_postgres_database_without_the_table_is_an_error_until_created(postgres_url):
    assert fails(postgres_url) == f"usage store {postgres_url} has no usage table (api_calls) {HINT}"
    with create_engine(postgres_url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar() == 0
    UsageStore(postgres_url, create=True)
    assert UsageStore(postgres_url).count() == 0


def test_a_missing_postgres_database(postgres_server):
    url = postgres_server.database_url("nowhere")
    message = fails(url, create=True)
    assert message.startswith(f"usage store {url}: connection ")
    assert message.endswith(
        f'connection to server on socket "{postgres_server.root}/.s.PGSQL.5432" failed: FATAL: database "nowhere" '
        "does not exist"
    )


def test_an_unreachable_server_with_the_password_masked(tmp_path):
    url = f"postgresql+psycopg://vvv:hunter2@/usage?host={tmp_path}"
    message = fails(url)
    # psycopg's own words vary between "connection failed:" and "connection is bad:"
    assert message.startswith(f"usage store postgresql+psycopg://vvv:***@/usage?host={tmp_path}: connection ")
    assert message.endswith(
        f'connection to server on socket "{tmp_path}/.s.PGSQL.5432" failed: No such file or directory Is the server '
        "running locally and accepting connections on that socket?"
    )
    assert "hunter2" not in message


@pytest.mark.parametrize(
    "url, reason",
    [
        ("usage.db", "not a database URL (e.g. sqlite:///usage.db, postgresql+psycopg://user@host/db)"),
        ("", "not a database URL (e.g. sqlite:///usage.db, postgresql+psycopg://user@host/db)"),
        ("postgres+psycopg://u@h/db", "unknown kind of database 'postgres+psycopg'"),
        ("postgresql+psycopg2://u:pw@h/db", "its database driver is not installed (No module named 'psycopg2')"),
    ],
)
def test_bad_urls(url, reason):
    shown = url.replace(":pw@", ":***@")
    assert fails(url) == f"usage store {shown}: {reason}"
