"""`timeledger projections status|rebuild|verify|run`."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from projections.database import readmodel_engine
from projections.models import ALL, BY_NAME
from projections.operations import rebuild_many, status, verify
from projections.service import ProjectionService
from timeledger.bootstrap import open_ledger, open_store
from timeledger.settings import Settings


def add_commands(commands: Any) -> None:
    parser = commands.add_parser("projections", help="operate the read models")
    actions = parser.add_subparsers(dest="projections_command", required=True, metavar="ACTION")
    actions.add_parser("status", help="each read model's position, the head position and the lag")
    rebuild_parser = actions.add_parser("rebuild", help="rebuild from position 0, then switch readers")
    rebuild_parser.add_argument("name", nargs="?", choices=sorted(BY_NAME), help="one read model")
    rebuild_parser.add_argument("--all", action="store_true", help="every read model")
    verify_parser = actions.add_parser("verify", help="compare the read models with a replay from zero")
    verify_parser.add_argument(
        "name", nargs="?", choices=sorted(BY_NAME), help="one read model (default all)"
    )
    actions.add_parser("run", help="follow the log and keep every read model up to date (until stopped)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    ledger = open_ledger(settings)
    engine = readmodel_engine(open_store(settings))
    action = args.projections_command
    if action == "status":
        print(f"{'read model':12} {'generation':>10} {'position':>10} {'head':>10} {'lag':>8}")
        for s in status(ledger, engine, ALL):
            print(f"{s.name:12} {s.generation:>10} {s.position:>10} {s.head:>10} {s.lag:>8}")
        return 0
    if action == "rebuild":
        if not args.all and not args.name:
            print("timeledger: name a read model to rebuild, or give --all.")
            return 2
        for done in rebuild_many(ledger, engine, ALL if args.all else (BY_NAME[args.name],)):
            print(f"Rebuilt {done.name}: generation {done.generation} at position {done.position}.")
        return 0
    if action == "verify":
        failed = False
        for model in (BY_NAME[args.name],) if args.name else ALL:
            report = verify(ledger, engine, model)
            if report.difference is not None:
                failed = True
                print(f"{model.name}: DIFFERS at position {report.position}: {report.difference.describe()}")
            else:
                print(f"{model.name}: {report.rows} rows equal a replay to position {report.position}.")
        return 1 if failed else 0
    return _follow(ledger, engine, settings)


def _follow(ledger: Any, engine: Any, settings: Settings) -> int:
    service = ProjectionService(ledger, engine, open_store(settings))
    stopped = threading.Event()

    def stop(*_: object) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    service.start()
    print(f"Following the log for {', '.join(service.runners)}; stop with Ctrl-C.", flush=True)
    stopped.wait()
    service.stop()
    return 0
