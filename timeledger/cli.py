"""`timeledger`: the admin command line (init, serve, audit verify)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.audit import VerifyResult, verify_log
from ledger.errors import LedgerError
from timeledger import checkpoints, import_cli, projections_cli, replay_cli, worker_cli
from timeledger.bootstrap import open_ledger, open_secret_key, open_store
from timeledger.settings import SETTINGS_DOC, Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="timeledger", description="TimeLedger administration.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser("init", help="create an organization with its owner (or the demo)")
    init.add_argument("--org", help="the organization's name")
    init.add_argument("--email", help="the owner's email (registered if new)")
    init.add_argument("--password", help="the owner's password (8+ characters)")
    init.add_argument(
        "--demo",
        action="store_true",
        help="the demo organization (the default without --org/--email/--password)",
    )
    init.add_argument("--name", help="the owner's display name (default: from the email)")
    init.add_argument("--timezone", default="UTC", help="IANA timezone, e.g. Europe/Berlin")
    init.add_argument(
        "--print-token", action="store_true", help="print an admin API token, alone on the last line"
    )

    serve = commands.add_parser("serve", help="serve the app over HTTP")
    serve.add_argument("--host", help="address to bind (default TIMELEDGER_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (default TIMELEDGER_PORT or 8000)")
    serve.add_argument(
        "--demo", action="store_true", help="create a demo organization first if the store is empty"
    )

    audit = commands.add_parser("audit", help="audit the event log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    audit_commands.add_parser(
        "verify", help="check the log's order and hash chains, compare and write signed checkpoints"
    )

    commands.add_parser("settings", help="list the environment variables TimeLedger reads")
    projections_cli.add_commands(commands)
    worker_cli.add_command(commands)
    import_cli.add_command(commands)
    replay_cli.add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_env()
    try:
        if args.command == "init":
            return _init(settings, args)
        if args.command == "serve":
            return _serve(settings, args)
        if args.command == "audit":
            return _audit_verify(settings)
        if args.command == "projections":
            return projections_cli.run(settings, args)
        if args.command == "worker":
            return worker_cli.run(settings, args)
        if args.command == "import":
            return import_cli.run(settings, args)
        if args.command == "replay":
            return replay_cli.run(settings, args)
        print(SETTINGS_DOC)
        return 0
    except LedgerError as error:
        print(f"timeledger: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        if type(error).__module__.startswith(("eventsourcing", "psycopg", "sqlalchemy")):
            where = open_store(settings).description
            print(f"timeledger: cannot use the event store at {where}: {error}", file=sys.stderr)
            return 2
        raise


def _init(settings: Settings, args: argparse.Namespace) -> int:
    ledger = open_ledger(settings)
    given = [name for name in ("org", "email", "password") if getattr(args, name)]
    if args.demo or not given:
        # Without an owner to create, `init` means the demo organization `make run` shows.
        return _init_demo(settings, ledger, args)
    missing = [f"--{name}" for name in ("org", "email", "password") if not getattr(args, name)]
    if missing:
        print(f"timeledger: init needs {', '.join(missing)} (or --demo).", file=sys.stderr)
        return 2
    name = args.name or args.email.split("@")[0]
    existing = ledger.user_by_email(args.email)
    created = ledger.create_organization(
        name=args.org,
        owner_email=args.email,
        owner_name=name,
        owner_password=args.password,
        settings={"timezone": args.timezone},
    )
    owner_id = created.related[0]
    print(f"Created organization {args.org!r} ({created.id}) owned by {args.email} ({owner_id}).")
    if existing is not None:
        print(f"{args.email} already had an account; its password was left unchanged.")
    if args.print_token:
        print(_admin_token(ledger, created.id, owner_id))
    return 0


def _init_demo(settings: Settings, ledger: TimeLedger, args: argparse.Namespace) -> int:
    from timeledger.demo import ensure_demo, find_demo

    login = ensure_demo(ledger, settings.home)
    demo = find_demo(settings.home)
    if demo is None:
        print("timeledger: this store already holds data that is not the demo.", file=sys.stderr)
        return 2
    print(f"Demo organization {demo.org_id}. {login}")
    if args.print_token:
        print(_admin_token(ledger, demo.org_id, demo.owner_id))
    return 0


def _admin_token(ledger: TimeLedger, org_id: UUID, owner_id: UUID) -> str:
    token = ledger.issue_token(
        org_id=org_id, name="init", scopes=["admin"], user_id=owner_id, actor=Actor.system()
    )
    assert token.secret is not None  # noqa: S101 - a new token always carries its secret
    return token.secret


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import OidcSettings, create_app
    from api.ratelimit import RateLimiter
    from api.readside import ReadSide
    from api.sessions import SessionCodec
    from projections.database import readmodel_engine
    from projections.service import ProjectionService
    from timeledger.demo import ensure_demo
    from workers.invoice_jobs import WorkerJobQueue

    ledger = open_ledger(settings)
    store = open_store(settings)
    engine = readmodel_engine(store)
    service = None
    if settings.embedded_projections(store.kind):
        service = ProjectionService(ledger, engine, store)
        service.start()
    if args.demo:
        print(ensure_demo(ledger, settings.home), flush=True)
    host = args.host or settings.host
    port = args.port or settings.port
    limiter = RateLimiter(settings.api_rate_limit) if settings.api_rate_limit else None
    oidc = None
    if settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret:
        join = UUID(settings.oidc_join_org) if settings.oidc_join_org else None
        oidc = OidcSettings(
            settings.oidc_issuer, settings.oidc_client_id, settings.oidc_client_secret, join_org_id=join
        )
    sessions = SessionCodec(open_secret_key(settings), secure=settings.secure_cookies())
    read_side = ReadSide(engine, service)
    app = create_app(
        ledger, read_side, store.kind, limiter, sessions=sessions, oidc=oidc, jobs=WorkerJobQueue()
    )
    print(f"TimeLedger on http://{host}:{port} (store: {store.description})", flush=True)
    print(f"API docs on http://{host}:{port}/api/docs", flush=True)
    jobs = worker_cli.serve_jobs(settings, ledger, engine)
    try:
        # No per-message deflate on WebSockets: every client gets the same small frames,
        # and compressing them once per connection cost a sixth of the server's CPU at
        # 1,000 stream clients (py-spy, bench/fanout.py) for little saved bandwidth.
        uvicorn.run(app, host=host, port=port, log_level=settings.log_level, ws_per_message_deflate=False)
    finally:
        jobs.stop()
        app.state.stream_hub.stop()
        if service is not None:
            service.stop()
        engine.dispose()
    return 0


def _audit_verify(settings: Settings) -> int:
    store = open_store(settings)
    path = settings.home / checkpoints.FILE_NAME
    key = checkpoints.signing_key(open_secret_key(settings))
    try:
        recorded = checkpoints.load(path, key, store.description)
    except checkpoints.CheckpointFileError as error:
        print(f"Audit FAILED: {error}.")
        return 1
    result = verify_log(
        open_ledger(settings),
        expect=[(c.position, c.log_hash) for c in recorded],
        gapless_positions=store.kind == "sqlite",
    )
    if result.first_break is not None:
        print(f"Audit FAILED at {result.first_break.describe()}.")
        print(f"{result.events - 1} events before it verified.")
        return 1
    if result.mismatch is not None:
        print(f"Audit FAILED: {result.mismatch.describe()}.")
        print(f"Checkpoint file: {path}.")
        return 1
    print(
        f"Audit passed: {result.events} events in {result.aggregates} aggregates verified "
        f"(head position {result.head})."
    )
    if result.skipped_positions:
        print(f"{result.skipped_positions} positions hold no event (appends rolled back on PostgreSQL).")
    print(_write_checkpoint(path, key, store.description, result, recorded))
    return 0


def _write_checkpoint(
    path: Path, key: bytes, store: str, result: VerifyResult, recorded: list[checkpoints.Checkpoint]
) -> str:
    compared = f"{result.checkpoints} signed checkpoints compared"
    if result.head == 0 or (recorded and max(c.position for c in recorded) >= result.head):
        return f"{compared}; no new checkpoint (the log has not grown)."
    checkpoint = checkpoints.new_checkpoint(key, store, result.head, result.log_hash, datetime.now(UTC))
    checkpoints.append(path, checkpoint)
    return f"{compared}; checkpoint written at position {result.head} (log hash {result.log_hash}) to {path}."


if __name__ == "__main__":
    sys.exit(main())
