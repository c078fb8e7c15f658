"""`tl`: the device command line (being written; see issue 5)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("tl: not ready yet", file=sys.stderr)
    return 2
