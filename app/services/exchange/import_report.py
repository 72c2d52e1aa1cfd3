"""The report a registrar fixes the file from: the job's uploaded workbook and its problems, written
by ``documents.annotated``."""

from __future__ import annotations

import io

from ...documents import annotated as report
from .imports import _file


def annotated(session, job) -> bytes:
    """The job's workbook with every problem marked where it is (streamed, flat memory)."""
    buffer = io.BytesIO()
    report.write(_file(job), job.problems or [], buffer)
    return buffer.getvalue()
