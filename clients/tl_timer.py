"""`tl start`, `stop`, `log`, `status` and `sync`: the commands that work offline too."""

from __future__ import annotations

import argparse
from datetime import datetime

from clients import times
from clients.config import CliError
from clients.device import Device
from clients.names import Catalog
from clients.offline import Queued
from schemas.entries import RecordEntry, StartTimer, TimeEntry

QUEUED_NOTE = "the server is out of reach; `tl sync` sends it later"


def label(catalog: Catalog, entry: TimeEntry) -> str:
    task = catalog.task_name(entry.task_id)
    text = catalog.project_name(entry.project_id) + (f" / {task}" if task else "")
    return text + (f" — {entry.description}" if entry.description else "")


def start(args: argparse.Namespace, device: Device) -> int:
    device.sync_first()
    catalog = device.catalog()
    project = catalog.project(args.project)
    task = catalog.task(project, args.task) if args.task else None
    at = times.now()
    body = StartTimer(
        project_id=project.id,
        task_id=task.id if task else None,
        description=args.note,
        tags=args.tag or None,
        at=at,
    )
    name = project.name + (f" / {task.name}" if task else "")
    result = device.submit("start", body.model_dump(mode="json", exclude_none=True), f"start {name}")
    if isinstance(result, Queued):
        print(f"Queued: start {name} at {times.clock(at)} ({QUEUED_NOTE}).")
    else:
        print(f"Started {label(catalog, result)} at {times.clock(result.start)}.")
    return 0


def stop(args: argparse.Namespace, device: Device) -> int:
    report = device.sync_first()
    if any(item.kind == "start" for item in report.rejected):
        raise CliError(
            "The server refused the start you queued (see above), so this stop was not sent: it "
            "would stop the timer running there now. Run `tl status`, then `tl stop` again if you mean it."
        )
    at = times.now()
    result = device.submit("stop", {"at": at.isoformat()}, "stop")
    if isinstance(result, Queued):
        print(f"Queued: stop at {times.clock(at)} ({QUEUED_NOTE}).")
        return 0
    catalog = Catalog.load(device.folder)
    print(
        f"Stopped {label(catalog, result)} at {times.clock(result.end or at)} "
        f"after {times.duration(result.duration_seconds)}."
    )
    return 0


def log(args: argparse.Namespace, device: Device) -> int:
    begin, end = times.parse_time(args.start), times.parse_time(args.end)
    if end <= begin:
        raise CliError(f"The end ({args.end}) must come after the start ({args.start}).", 2)
    device.sync_first()
    catalog = device.catalog()
    project = catalog.project(args.project)
    task = catalog.task(project, args.task) if args.task else None
    body = RecordEntry(
        project_id=project.id,
        start=begin,
        end=end,
        task_id=task.id if task else None,
        description=args.note,
        tags=args.tag or None,
    )
    span = f"{times.clock(begin)}-{times.clock(end)}"
    result = device.submit(
        "log", body.model_dump(mode="json", exclude_none=True), f"log {project.name} {span}"
    )
    if isinstance(result, Queued):
        print(f"Queued: log {project.name} {span} ({QUEUED_NOTE}).")
    else:
        print(f"Logged {times.duration(result.duration_seconds)} on {label(catalog, result)}, {span}.")
    return 0


def queued_timer(pending: list[Queued]) -> str | None:
    """What the queue says about the timer: the last start or stop made offline."""
    last = next((item for item in reversed(pending) if item.kind in ("start", "stop")), None)
    if last is None:
        return None
    at = times.clock(datetime.fromisoformat(last.body["at"]))
    if last.kind == "start":
        return f"{last.summary.removeprefix('start ')}: running since {at} (queued, not yet on the server)."
    return f"Stopped at {at} (queued, not yet on the server)."


def status(args: argparse.Namespace, device: Device) -> int:
    device.sync_first()
    catalog = device.catalog()
    pending, rejected = device.queue.pending(), device.queue.rejected()
    if device.online:
        running = device.client.timer()
        device.remember_timer(running)
        if running is None:
            print("No timer is running.")
        else:
            state = "paused" if running.status == "paused" else "running"
            print(
                f"{label(catalog, running)}: {state} since {times.clock(running.start)} "
                f"({times.duration(running.duration_seconds)} so far)."
            )
    else:
        print(f"The server at {device.config.url} cannot be reached; this is what this device knows.")
        known = device.last_known_timer()
        if known is not None:
            as_of, entry = known
            said = (
                f"{label(catalog, entry)} running since {times.clock(entry.start)}"
                if entry is not None
                else "no timer running"
            )
            print(f"Last seen on the server ({times.clock(as_of)}): {said}.")
    offline_timer = queued_timer(pending)
    if offline_timer:
        print(offline_timer)
    if pending:
        print(f"Queued, not yet on the server ({len(pending)}):")
        for item in pending:
            print(f"  {item.short}  {item.summary}{_at(item)}")
    if rejected:
        print(f"Rejected by the server, kept until you discard them ({len(rejected)}):")
        for item in rejected:
            print(
                f"  {item.short}  {item.summary}{_at(item)}: {item.problem}  (tl sync --discard {item.short})"
            )
    return 0


def _at(item: Queued) -> str:
    at = item.body.get("at")
    return f" at {times.clock(datetime.fromisoformat(at))}" if isinstance(at, str) else ""


def sync(args: argparse.Namespace, device: Device) -> int:
    for prefix, action in ((args.discard, "discard"), (args.retry, "retry")):
        if prefix is None:
            continue
        item = device.queue.find(prefix)
        if item is None:
            raise CliError(
                f"No single queued command has an id starting with {prefix!r}; see `tl status`.", 2
            )
        if action == "discard":
            device.queue.done(item.id)
            print(f"Discarded {item.short}: {item.summary}.")
            return 0
        device.queue.retry(item.id)
    report = device.sync()
    for item in report.sent:
        print(f"Sent {item.short}: {item.summary}{_at(item)}.")
    if report.left:
        raise CliError(
            f"The server at {device.config.url} cannot be reached; {report.left} command(s) stay queued."
        )
    if report.rejected:
        return 1
    if not report.sent:
        print("Nothing to sync.")
    kept = len(device.queue.rejected())
    if kept:
        print(f"{kept} rejected command(s) kept; see `tl status`.")
    return 0
