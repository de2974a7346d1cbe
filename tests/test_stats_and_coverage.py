"""Production sizes (the stats command and --indexguard-stats) and the index coverage report."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from conftest import PSYCOPG2_ONLY, WORKER, DjangoProject, SampleApp

SCANS = """
import pytest
from shop.models import Customer, Order

pytestmark = pytest.mark.django_db


def test_scan_of_the_big_table():
    assert list(Customer.objects.filter(city="Oslo")) == []


def test_scan_of_the_small_table():
    assert list(Order.objects.filter(status="lost")) == []
"""


@pytest.fixture
def production() -> Iterator[str]:
    """A database standing in for production: a big customer table, a small order table."""
    server = os.environ["DATABASE_URL"]
    name = f"indexguard_production_{WORKER}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    try:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(
                "CREATE TABLE shop_customer"
                " (id bigint PRIMARY KEY, city text, account bigint, secret text);"
                # 50 cities evenly; 30% of the rows on account 7777777, the rest one each.
                "INSERT INTO shop_customer SELECT g, 'city-' || g % 50,"
                " CASE WHEN g <= 18000 THEN 7777777 ELSE g END, 'secret-' || md5(g::text)"
                " FROM generate_series(1, 60000) g;"
                "CREATE TABLE shop_order (id bigint PRIMARY KEY, status text);"
                "INSERT INTO shop_order SELECT g, 'new' FROM generate_series(1, 40) g;"
                "CREATE TABLE parted (id int, day date) PARTITION BY RANGE (day);"
                "CREATE TABLE parted_2025 PARTITION OF parted"
                " FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');"
                "CREATE TABLE parted_2026 PARTITION OF parted"
                " FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');"
                "INSERT INTO parted SELECT g, '2025-01-01'::date + g % 700"
                " FROM generate_series(1, 7000) g;"
                # The statistics stay as analysed below: the test reads them twice, and an
                # autovacuum ANALYZE in between would sample other values.
                "ALTER TABLE shop_customer SET (autovacuum_enabled = false);"
                "ALTER TABLE shop_order SET (autovacuum_enabled = false);"
                "ALTER TABLE parted_2025 SET (autovacuum_enabled = false);"
                "ALTER TABLE parted_2026 SET (autovacuum_enabled = false)"
            )
            # After the rows are committed, so that nothing counts as changed since.
            connection.execute("ANALYZE")
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _stats(*args: str, psycopg2: bool = False) -> subprocess.CompletedProcess[str]:
    """The stats command; ``psycopg2``: in a process that sees no psycopg 3."""
    env = dict(os.environ)
    if psycopg2:
        if importlib.util.find_spec("psycopg2") is None:
            pytest.skip("psycopg2 is not installed: pip install psycopg2-binary")
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(PSYCOPG2_ONLY), env.get("PYTHONPATH")])
        )
    return subprocess.run(
        [sys.executable, "-m", "pytest_indexguard", "stats", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def test_stats_command_and_threshold(
    production: str, tmp_path: Path, django_project: DjangoProject
) -> None:
    output = tmp_path / "production-stats.json"
    done = _stats("--database-url", production, "--output", str(output))
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("stats: 5 tables from ")
    data = json.loads(output.read_text())
    assert data["format"] == "pytest-indexguard stats"
    tables = data["tables"]
    assert data["version"] == 2
    customer = tables["shop_customer"]
    assert (customer["rows"], customer["source"]) == (60000, "pg_class.reltuples")
    assert (tables["shop_order"]["rows"], tables["shop_order"]["source"]) == (
        40,
        "pg_class.reltuples",
    )
    # The shape of each column, never its values.
    city, account = customer["columns"]["city"], customer["columns"]["account"]
    assert city["n_distinct"] == 50
    assert city["max_frequency"] == pytest.approx(0.02, abs=0.01)
    assert account["max_frequency"] == pytest.approx(0.3, abs=0.03)
    assert customer["columns"]["id"]["n_distinct"] == -1  # unique: minus the fraction of rows
    text = output.read_text()
    with psycopg.connect(production) as connection:
        values = connection.execute(
            "SELECT DISTINCT city FROM shop_customer UNION SELECT secret FROM shop_customer"
        ).fetchall()
    assert values
    assert not [value for (value,) in values if value in text]
    assert "7777777" not in text
    assert tables["parted"]["rows"] == 7000  # partitions summed under their parent
    assert tables["parted_2025"]["rows"] + tables["parted_2026"]["rows"] == 7000
    assert "password" not in output.read_text()

    django_project.write_tests(SCANS)
    run = django_project.run(
        "--indexguard", f"--indexguard-stats={output}", "--indexguard-min-rows=1000"
    )
    assert run.outcomes() == {
        "test_scan_of_the_big_table": "failed",
        "test_scan_of_the_small_table": "passed",
    }, run.output
    section = run.section("test_scan_of_the_big_table")
    assert "rows:    60,000 (stats file production-stats.json)" in section, section
    assert "shop_order: 1 below min-rows" in run.output, run.output
    # A psycopg2 project's environment reads the same (last: skipped without psycopg2).
    again = tmp_path / "through-psycopg2.json"
    done = _stats("--database-url", production, "--output", str(again), psycopg2=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(again.read_text())["tables"] == tables
    # That a hand-written size beats the stats file is checked in process (test_units_config.py).


@pytest.mark.parametrize("psycopg2", [False, True], ids=["psycopg", "psycopg2"])
def test_stats_command_cannot_connect(psycopg2: bool) -> None:
    done = _stats("--database-url", "postgres://nobody:secret@127.0.0.1:1/none", psycopg2=psycopg2)
    assert done.returncode == 2
    assert done.stderr.startswith("stats: cannot read 127.0.0.1:1/none: ")
    assert "secret" not in done.stderr
    assert "Traceback" not in done.stderr


def test_coverage_of_the_sample_app(sample_app: SampleApp, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    run = sample_app.run("--indexguard-coverage", f"--indexguard-report={report}")
    assert run.result.ret == 0, run.output
    lines = run.result.outlines
    start = lines.index(
        "index coverage (what this suite's plans used; the suite may not exercise every "
        "query, so an index no plan used may still serve production):"
    )
    block = "\n".join(lines[start:])
    # The planned indexes the tests rely on...
    for used in (
        "webhook_retry_idx (status, next_attempt_at): 2 statements",
        "intlog_status_time_idx (status, start_time DESC)",
        "intlog_conn_time_idx (connection_id, start_time DESC)",
        "webhook_endpoint_hist_idx (endpoint_id, created_at DESC)",
    ):
        assert used in block, block
    # ...the ones no plan used (the services order by name: the unique index serves them)...
    assert "unused:    alertrule_cust_enabled_idx (customer_id, enabled)" in block, block
    # ...and why, from production's shape (sample_app/production-stats.json).
    assert (
        "at scale:  alertrule_cust_enabled_idx (customer_id, enabled): in production "
        "(customer_id) alone finds 20 rows per key, 20 for the busiest"
    ) in block, block
    assert "at scale:  notifchan_cust_enabled_idx (customer_id, enabled, channel_type)" in block
    assert "at scale:  webhook_endpoint_hist_idx" not in block  # 68,000 rows for the busiest
    # ...and foreign-key indexes that a composite index makes redundant.
    redundant = [line.strip() for line in lines[start:] if "redundant:" in line]
    assert len(redundant) == 4, block
    assert any(
        line.startswith("redundant: upstream_webhookdelivery_endpoint_id_")
        and line.endswith(
            "is the leading column of webhook_endpoint_hist_idx (endpoint_id, created_at DESC)"
        )
        for line in redundant
    ), redundant
    tables = {entry["table"] for entry in json.loads(report.read_text())["coverage"]}
    assert tables == {
        "upstream_alertrule",
        "upstream_integrationlog",
        "upstream_notificationchannel",
        "upstream_userprofile",
        "upstream_webhookdelivery",
    }
