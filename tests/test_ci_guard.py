"""Without PostgreSQL, store tests skip loudly; with CI=true, the run fails instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOSED = "postgresql://postgres@127.0.0.1:1/test"


def run_one_store_test(ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["TIMELEDGER_TEST_PG"] = CLOSED
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/ledger/test_timer.py",
            "-k",
            "continue_entry",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_unreachable_postgres_is_a_loud_skip_locally() -> None:
    result = run_one_store_test(ci=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "LOUD SKIP: PostgreSQL is required" in result.stdout
    assert "1 passed, 1 skipped" in result.stdout


def test_an_unreachable_postgres_fails_the_run_in_ci() -> None:
    result = run_one_store_test(ci=True)
    assert result.returncode != 0
    assert "CI=true: a missing service fails the run" in result.stdout
