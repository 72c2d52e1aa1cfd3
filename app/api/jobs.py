"""REST for jobs (任务): the latest the account may see, one job's progress, cancelling one.
Long work started through the API (the promotion batch) answers 202 with its job."""

from __future__ import annotations

from flask_appbuilder.api import expose, protect, safe

from ..extensions import db
from ..services.common.paging import page_of
from ..services.operations import jobs
from ..web.common import actor
from .common import DomainApi, paged, paging


class JobApi(DomainApi):
    resource_name = "job"
    class_permission_name = "Job"
    method_permission_name = {"get_list": "show", "get": "show", "cancel": "cancel"}

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def get_list(self):
        """The jobs of the account's jurisdiction, newest first, a page at a time (?page= from 0,
        ?page_size= up to 100; ``count`` is the total)."""
        def run():
            page, size = paging()
            found = page_of(db.session, jobs.newest_first(actor()), page=page, size=size)
            return paged(found, [jobs.view(r) for r in found.rows])
        return self.answer(run)

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    def get(self, pk):
        """One job: status, done of total, percent, seconds left, its outcome."""
        return self.answer(lambda: {"result": jobs.view(jobs.get(db.session, actor(), pk))})

    @expose("/<int:pk>/cancel", methods=["POST"])
    @protect()
    @safe
    def cancel(self, pk):
        """Cancel it: a queued job never runs, a running one stops after its current batch."""
        return self.answer(lambda: {"result": jobs.view(jobs.cancel(db.session, actor(), pk))})
