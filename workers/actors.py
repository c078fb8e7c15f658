"""The modules that declare actors: a process that runs jobs imports them all before it starts.

Modules of features not built yet are skipped, so the list can name them ahead of time.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable

log = logging.getLogger("timeledger.jobs")

ACTOR_MODULES = ("workers.mail_jobs", "workers.budgets", "workers.webhooks", "workers.invoice_jobs")


def import_actor_modules(modules: Iterable[str] = ACTOR_MODULES) -> list[str]:
    """Import each module (declaring its actors); return the ones that exist.

    Only a module that is itself missing is skipped: a module that exists but fails
    to import (a missing dependency, a bug) raises, as it should.
    """
    imported = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            log.info("no actor module %s yet: skipped", name)
            continue
        imported.append(name)
    return imported
