"""The jobs the API asks for, behind a Protocol: the composition root passes the real queue.

`api/` may not import `workers/`, so routes see only `JobQueue`; `timeledger serve`
passes `workers.invoice_jobs.WorkerJobQueue`, tests pass their own.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from fastapi import Request


class JobQueue(Protocol):
    """Where the API sends work it does not do in the request."""

    def render_invoice(self, invoice_id: UUID, version: int) -> None:
        """Ask for the PDF of one invoice version (it lands in `invoice_documents`)."""


class NoJobs:
    """A queue that runs nothing: the app without a job runtime (PDFs then never appear)."""

    def render_invoice(self, invoice_id: UUID, version: int) -> None:
        return None


def jobs_of(request: Request) -> JobQueue:
    found: JobQueue = request.app.state.jobs
    return found
