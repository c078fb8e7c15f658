"""`tl login`, `ls`, `edit` and `watch`: the commands that need the server."""

from __future__ import annotations

import argparse
import contextlib
import getpass
from typing import Any
from uuid import UUID

from clients import times
from clients.config import CliError, Config, config_dir, ensure_dir
from clients.device import Device, explain, new_client
from clients.errors import ApiError, ServerUnreachable
from clients.names import Catalog
from clients.stream import StreamOptions
from clients.tl_timer import label
from schemas.entries import TimeEntry
from schemas.stream import StreamEvent


def login(args: argparse.Namespace) -> int:
    url = args.url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise CliError(f"{args.url!r} is not a server URL; give one like https://time.example.com.", 2)
    token = args.token if args.token is not None else getpass.getpass("API token: ")
    if not token.strip():
        raise CliError("No token given; create one with POST /api/v1/tokens or in the web app.", 2)
    folder = ensure_dir(config_dir())
    with new_client(url, token.strip()) as client:
        try:
            me = client.me()
        except ApiError as error:
            if error.status == 401:
                raise CliError(f"The server refused this token: {error.detail}") from None
            raise
        config = Config(
            url=client.url,
            token=token.strip(),
            user_id=str(me.user.id),
            email=me.user.email,
            organization=me.organization.name,
            week_start=me.organization.week_start,
        )
        config.save(folder)
        # A token without read:catalog cannot resolve names, yet the login holds.
        with contextlib.suppress(ApiError):
            Catalog.fetch(client, folder)
    print(f"Logged in to {config.url} as {me.user.display_name} <{me.user.email}> in {config.organization}.")
    return 0


def _online(device: Device, what: str) -> Catalog:
    device.sync_first()
    catalog = device.catalog()
    device.require_online(what)
    return catalog


def ls(args: argparse.Namespace, device: Device) -> int:
    catalog = _online(device, "`tl ls`")
    today = times.now().date()
    first = today if args.today else times.week_start(today, device.config.week_start)
    found = list(device.client.entries(member=device.config.user_id, from_=times.day_start(first)))
    if not found:
        print("No entries today." if args.today else "No entries this week.")
        return 0
    rows = [("ID", "START", "DURATION", "PROJECT", "NOTE")]
    for entry in found:
        length = times.duration(entry.duration_seconds) + ("+" if entry.end is None else "")
        start = entry.start.astimezone().strftime("%a %d %b %H:%M")
        project = catalog.project_name(entry.project_id)
        task = catalog.task_name(entry.task_id)
        rows.append(
            (str(entry.id)[:8], start, length, project + (f" / {task}" if task else ""), entry.description)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        print(f"{cells}  {row[4]}".rstrip())
    total = sum(entry.duration_seconds for entry in found)
    print(f"Total: {times.duration(total)} in {len(found)} entr{'y' if len(found) == 1 else 'ies'}.")
    return 0


def find_entry(device: Device, text: str) -> TimeEntry:
    """An entry of yours by full id or by a unique prefix of it."""
    prefix = text.strip().lower()
    try:
        return device.client.entry(UUID(prefix))
    except ValueError:
        pass
    if not prefix or any(c not in "0123456789abcdef-" for c in prefix):
        raise CliError(f"{text!r} is not an entry id; `tl ls` shows them.", 2)
    matches = [
        e
        for e in device.client.entries(member=device.config.user_id, page_size=500)
        if str(e.id).startswith(prefix)
    ]
    if not matches:
        raise CliError(f"None of your entries has an id starting with {text!r}.")
    if len(matches) > 1:
        raise CliError(f"{len(matches)} of your entries have ids starting with {text!r}; give more of it.", 2)
    return matches[0]


def edit(args: argparse.Namespace, device: Device) -> int:
    catalog = _online(device, "`tl edit`")
    entry = find_entry(device, args.id)
    day = entry.start.astimezone().date()
    changes: dict[str, Any] = {}
    if args.project:
        changes["project_id"] = catalog.project(args.project).id
    if args.note is not None:
        changes["description"] = args.note
    if args.start:
        changes["start"] = times.parse_time(args.start, day)
    if args.end:
        changes["end"] = times.parse_time(args.end, day)
    if not changes:
        raise CliError("Nothing to change; give --project, -m, --start or --end.", 2)
    edited = device.client.edit_entry(entry.id, if_match=entry.version, **changes)
    span = times.clock(edited.start) + (f"-{times.clock(edited.end)}" if edited.end else " (running)")
    length = times.duration(edited.duration_seconds)
    print(f"Edited {str(edited.id)[:8]}: {label(catalog, edited)}, {span}, {length}.")
    return 0


def event_line(catalog: Catalog, event: StreamEvent) -> str:
    data = event.data
    parts = [
        f"#{event.position}",
        times.clock(event.recorded_at),
        event.event_type,
        str(event.aggregate_id)[:8],
    ]
    if isinstance(data.get("project_id"), str):
        parts.append(catalog.project_name(UUID(data["project_id"])))
    for key in ("name", "description"):
        if isinstance(data.get(key), str) and data[key]:
            parts.append(repr(data[key]) if key == "description" else data[key])
    return "  ".join(parts)


def watch(args: argparse.Namespace, device: Device) -> int:
    options = StreamOptions(max_failures=args.give_up_after)
    try:  # Ctrl-C is how a watch ends: at any moment, it exits 0
        catalog = _online(device, "`tl watch`")
        for count, event in enumerate(device.client.stream(after=args.after, options=options), 1):
            print(event_line(catalog, event), flush=True)
            if args.count and count >= args.count:
                break
    except KeyboardInterrupt:
        return 0
    except ServerUnreachable:
        raise CliError(f"The live stream of {device.config.url} cannot be reached any more.") from None
    except ApiError as error:
        raise CliError(f"The server refused the live stream: {explain(error)}") from None
    return 0
