"""REST for requests: list and read them (scoped), file one, decide a step, resubmit, cancel, pull;
the inbox; and the transfer look-up.  Same services, same rules, same scoping as the pages."""

from __future__ import annotations

import base64
import binascii

from flask import request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from sqlalchemy import select

from ..errors import DomainError, NotFound, ValidationFailed
from ..extensions import db
from ..i18n import t
from ..models import Request, SchoolClass, Student
from ..services import requests as svc
from ..services import students, transfers
from ..views.base import actor, now


def _dump(req: Request) -> dict:
    return {"id": req.id, "kind": req.kind, "status": req.status, "student_id": req.student_id,
            "student_name": req.student_name, "summary": req.summary, "variant": req.variant,
            "round": req.round, "step": req.step, "rule_version": req.rule_version,
            "holder": req.current, "due_on": req.due_on.isoformat() if req.due_on else None,
            "chain": req.chain, "reason": req.reason, "note": req.note,
            "created_at": req.created_at.isoformat(),
            "steps": [{"action": s.action, "step": s.step, "round": s.round, "actor": s.actor_name,
                       "at": s.at.isoformat(), "comment": s.comment} for s in req.steps],
            "attachments": [{"id": a.id, "filename": a.filename, "size": a.size}
                            for a in req.attachments]}


def _files(items) -> list[tuple[str, bytes]]:
    out = []
    for item in items or []:
        try:
            out.append((str(item["filename"]), base64.b64decode(item["content_base64"], validate=True)))
        except (KeyError, TypeError, binascii.Error):
            raise ValidationFailed(t("证明材料格式：{filename, content_base64}",
                                     "evidence items are {filename, content_base64}"), "evidence")
    return out


class RequestApi(BaseApi):
    resource_name = "request"
    class_permission_name = "Request"
    allow_browser_login = False
    method_permission_name = {"get_list": "list", "get": "show", "inbox": "list", "post": "add",
                              "resubmit": "add", "cancel": "add", "pull": "add", "decide": "decide",
                              "lookup": "add"}

    def _run(self, fn, status=200):
        try:
            body = fn()
        except DomainError as exc:
            db.session.rollback()
            return self.response(exc.status, **exc.as_json())
        return self.response(status, **body)

    def _json(self) -> dict:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise ValidationFailed(t("请求须为 JSON 对象", "the body must be a JSON object"))
        return data

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def get_list(self):
        """Requests of the account's jurisdiction, newest first (?status=&kind=)."""
        query = select(Request).where(actor().scope.clause(Request))
        for key in ("status", "kind"):
            if request.args.get(key):
                query = query.where(getattr(Request, key) == request.args[key])
        rows = db.session.scalars(query.order_by(Request.id.desc()).limit(500)).all()
        return self.response(200, count=len(rows), result=[_dump(r) for r in rows])

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    def get(self, pk):
        return self._run(lambda: {"result": _dump(svc.load(db.session, actor(), pk))})

    @expose("/inbox", methods=["GET"])
    @protect()
    @safe
    def inbox(self):
        rows = svc.inbox(db.session, actor())
        return self.response(200, count=len(rows), result=[_dump(r) for r in rows])

    @expose("/", methods=["POST"])
    @protect()
    @safe
    def post(self):
        """File a request: {kind, student_id, payload?, reason?, note?, target_class_id?, evidence?}."""
        def run():
            data, who = self._json(), actor()
            if data.get("kind") == "transfer":  # the receiving school names another school's student
                student = db.session.get(Student, data.get("student_id") or 0)
                if student is None:
                    raise NotFound(t("学生不存在", "no such student"), "student_id")
            else:
                student = students.get_in_scope(db.session, who, data.get("student_id"), "student_id")
            klass = db.session.get(SchoolClass, data["target_class_id"]) if data.get("target_class_id") else None
            req = svc.start(db.session, kind=str(data.get("kind", "")), student=student, actor=who,
                            now=now(), payload=data.get("payload") or {}, reason=data.get("reason"),
                            note=data.get("note"), target_class=klass,
                            files=_files(data.get("evidence")))
            return {"id": req.id, "result": _dump(req)}
        return self._run(run, 201)

    @expose("/<int:pk>/<string:verdict>", methods=["POST"])
    @protect()
    @safe
    def decide(self, pk, verdict):
        """approve / reject / return the step waiting for you: {comment?, expected_step?}."""
        def run():
            data = request.get_json(silent=True) or {}
            if verdict == "resubmit":
                req = svc.resubmit(db.session, pk, actor(), now(), payload=data.get("payload"),
                                   comment=data.get("comment"), files=_files(data.get("evidence")))
            elif verdict == "cancel":
                req = svc.cancel(db.session, pk, actor(), now(), comment=data.get("comment"))
            elif verdict == "pull":
                req = svc.pull(db.session, pk, actor(), now())
            else:
                req = svc.decide(db.session, pk, actor(), verdict, now(), comment=data.get("comment"),
                                 expected_step=data.get("expected_step"))
            return {"result": _dump(req)}
        return self._run(run)

    @expose("/transfer-lookup", methods=["POST"])
    @protect()
    @safe
    def lookup(self):
        """{registry_no} or {id_number, name}: the record a receiving school may file a transfer for."""
        def run():
            data = self._json()
            student = transfers.lookup(db.session, actor(), registry_no=data.get("registry_no"),
                                       id_number=data.get("id_number"), name=data.get("name"))
            return {"result": transfers.card(student)}
        return self._run(run)
