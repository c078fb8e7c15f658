"""The event catalogue lists every event the ledger can append."""

from __future__ import annotations

from pathlib import Path

import ledger.application  # noqa: F401 - imports every aggregate module
from ledger.base import LedgerAggregate

CATALOGUE = Path(__file__).resolve().parent.parent / "docs" / "events.md"


def concrete_events() -> set[str]:
    found: set[str] = set()
    pending = list(LedgerAggregate.__subclasses__())
    while pending:
        aggregate = pending.pop()
        pending.extend(aggregate.__subclasses__())
        if aggregate.__name__ == "Archivable":
            continue
        for name, value in vars(aggregate).items():
            if (
                isinstance(value, type)
                and issubclass(value, LedgerAggregate.Event)
                and name not in ("Event", "Created")
            ):
                found.add(f"{aggregate.__name__}.{name}")
    return found


def test_every_event_is_in_the_catalogue() -> None:
    text = CATALOGUE.read_text(encoding="utf-8")
    events = concrete_events()
    assert len(events) > 30
    missing = sorted(e for e in events if f"`{e}`" not in text)
    assert missing == []


def test_the_readme_documents_every_setting() -> None:
    from timeledger.settings import SETTINGS_DOC

    readme = (CATALOGUE.parent.parent / "README.md").read_text(encoding="utf-8")
    rows = [line for line in SETTINGS_DOC.splitlines() if line.startswith("| `")]
    assert len(rows) >= 5
    for row in rows:
        assert row in readme


def test_the_api_guide_lists_every_operation_of_the_spec() -> None:
    from sqlalchemy import create_engine

    from api.app import create_app
    from api.readside import ReadSide

    app = create_app(None, ReadSide(create_engine("sqlite://")), "sqlite")  # type: ignore[arg-type]
    guide = (CATALOGUE.parent / "api.md").read_text(encoding="utf-8")
    missing = [
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if f"`{method.upper()} {path.removeprefix('/api/v1')}`" not in guide
    ]
    assert missing == [], "docs/api.md lacks these operations"
