"""`tl`: the device command line of TimeLedger; `start`, `stop` and `log` work offline too."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn

from clients import tl_entries, tl_timer
from clients.config import CliError
from clients.device import Device, explain
from clients.errors import ApiError, ServerUnreachable

Handler = Callable[[argparse.Namespace, Device], int]


class Parser(argparse.ArgumentParser):
    """argparse, reporting a usage error as one sentence (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"tl: {message[:1].upper()}{message[1:]} (see `{self.prog} --help`).\n")


def build_parser() -> Parser:
    parser = Parser(prog="tl", description="Track time on a TimeLedger server, online or offline.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)

    login = commands.add_parser("login", help="log this device in with an API token")
    login.add_argument("url", help="the server, e.g. https://time.example.com")
    login.add_argument("--token", help="the API token (asked for when left out)")

    start = commands.add_parser("start", help="start a timer (queued when offline)")
    start.add_argument("project", help="project name (or a unique start of it)")
    _details(start)

    commands.add_parser("stop", help="stop the running timer (queued when offline)")
    commands.add_parser("status", help="the running timer and the queued or rejected commands")

    log = commands.add_parser("log", help="record a finished entry (queued when offline)")
    log.add_argument("project", help="project name (or a unique start of it)")
    log.add_argument("start", metavar="FROM", help="HH:MM today, or an ISO datetime")
    log.add_argument("end", metavar="TO", help="HH:MM today, or an ISO datetime")
    _details(log)

    ls = commands.add_parser("ls", help="your entries of this week or today")
    span = ls.add_mutually_exclusive_group()
    span.add_argument("--week", action="store_true", help="this week (the default)")
    span.add_argument("--today", action="store_true", help="today only")

    edit = commands.add_parser("edit", help="change an entry (refused if it changed since read)")
    edit.add_argument("id", help="entry id, or a unique start of it (see `tl ls`)")
    edit.add_argument("--project", help="move it to this project")
    edit.add_argument("-m", "--note", help="new description")
    edit.add_argument("--start", help="new start: HH:MM on the entry's day, or an ISO datetime")
    edit.add_argument("--end", help="new end: HH:MM on the entry's day, or an ISO datetime")

    watch = commands.add_parser("watch", help="print the live events as they happen (Ctrl-C stops)")
    watch.add_argument("--after", type=int, help="start after this log position (default: from now)")
    watch.add_argument("--count", type=int, help="stop after this many events")
    watch.add_argument("--give-up-after", type=int, help="failed reconnects in a row before giving up")

    sync = commands.add_parser("sync", help="send the queued commands to the server")
    choice = sync.add_mutually_exclusive_group()
    choice.add_argument("--discard", metavar="ID", help="remove a queued or rejected command")
    choice.add_argument("--retry", metavar="ID", help="send a rejected command again")
    return parser


def _details(command: argparse.ArgumentParser) -> None:
    command.add_argument("-t", "--task", help="task name within the project")
    command.add_argument("-m", "--note", help="description")
    command.add_argument("--tag", action="append", help="a tag (repeat for more)")


HANDLERS: dict[str, Handler] = {
    "start": tl_timer.start,
    "stop": tl_timer.stop,
    "log": tl_timer.log,
    "status": tl_timer.status,
    "sync": tl_timer.sync,
    "ls": tl_entries.ls,
    "edit": tl_entries.edit,
    "watch": tl_entries.watch,
}


def run(args: argparse.Namespace) -> int:
    if args.command == "login":
        return tl_entries.login(args)
    device = Device.open()
    try:
        return HANDLERS[args.command](args, device)
    finally:
        device.close()


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 2
    try:
        return run(args)
    except CliError as error:
        message, code = str(error), error.code
    except ApiError as error:
        message, code = explain(error), 1
    except ServerUnreachable as error:
        message, code = str(error), 1
    except KeyboardInterrupt:
        return 130
    except OSError as error:
        message, code = f"{error.strerror or error} ({error.filename or 'no file'}).", 1
    print(f"tl: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
