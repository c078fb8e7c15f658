"""A description of the machine a benchmark ran on, for docs/performance.md."""

from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path


def describe(pg_version: str | None = None) -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().splitlines()[0].split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    parts = [
        f"{os.cpu_count()} x {cpu}{memory}",
        f"{platform.system()} {platform.release()}",
        f"Python {platform.python_version()}",
        f"SQLite {sqlite3.sqlite_version}",
    ]
    if pg_version:
        parts.append(f"PostgreSQL {pg_version}")
    return "; ".join(parts)
