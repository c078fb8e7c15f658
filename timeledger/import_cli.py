"""`timeledger import FILE --org ORG_ID`: import another tracker's export (or ours)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger.imports import FORMATS, Importer, Outcome, Plan
from timeledger.bootstrap import open_ledger
from timeledger.settings import Settings


def add_command(commands: Any) -> None:
    parser = commands.add_parser("import", help="import a CSV/JSON export of entries into an organization")
    parser.add_argument("file", type=Path, help="the exported file")
    parser.add_argument("--org", required=True, help="the organization's id")
    parser.add_argument(
        "--format", default="auto", choices=("auto", *FORMATS), help="default: told from the header"
    )
    parser.add_argument(
        "--timezone", help="IANA timezone of times without an offset (default: the organization's)"
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be created; change nothing")


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        org_id = UUID(args.org)
        text = args.file.read_text(encoding="utf-8-sig")
    except ValueError:
        print(f"timeledger: {args.org!r} is not an organization id.", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"timeledger: cannot read {args.file}: {error.strerror}.", file=sys.stderr)
        return 2
    importer = Importer(open_ledger(settings), org_id)
    plan = importer.plan(text, args.format, args.timezone)
    if args.dry_run:
        _print_plan(plan)
        return 1 if plan.errors else 0
    outcome = importer.apply(plan)
    _print_outcome(plan, outcome)
    return 1 if outcome.errors else 0


def _names(items: Any) -> str:
    names = [item[0] if isinstance(item, tuple) else item for item in items]
    return ", ".join(names) if names else "none"


def _print_plan(plan: Plan) -> None:
    print(f"Dry run: {plan.format} file, times without an offset read in {plan.timezone}.")
    print(f"Would create clients: {_names(plan.new_clients.values())}")
    print(f"Would create projects: {_names(plan.new_projects.values())}")
    print(f"Would create tasks: {_names(plan.new_tasks.values())}")
    print(f"Members matched: {', '.join(plan.members) or 'none'}")
    already = len(plan.entries) - len(plan.new_entries)
    print(f"Would record {len(plan.new_entries)} entries ({already} already imported).")
    _print_errors(plan.errors)


def _print_outcome(plan: Plan, outcome: Outcome) -> None:
    print(f"Imported a {plan.format} file, times without an offset read in {plan.timezone}.")
    created = (len(outcome.clients), len(outcome.projects), len(outcome.tasks))
    print("Created {} clients, {} projects, {} tasks.".format(*created))
    print(f"Recorded {outcome.recorded} entries ({outcome.already_imported} already imported).")
    _print_errors(outcome.errors)


def _print_errors(errors: Any) -> None:
    if errors:
        print(f"{len(errors)} rows not imported:")
    for error in errors:
        print(f"  line {error.line}: {error.reason}")
