"""REST for requests: list and read them (scoped), file one, decide a step, resubmit, cancel, pull;
the inbox; and the transfer look-up.  Same services, same rules, same scoping as the pages.

Bodies are checked by schema first: a wrong type, an out-of-range id or an unknown key is a 400
naming the field.  A transfer names its student by the exact look-up (registry number, or ID number
and name), never by a raw student id.
"""

from __future__ import annotations

import base64

from flask import request
from flask_appbuilder.api import expose, protect, safe
from marshmallow import fields
from marshmallow.validate import Length
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..i18n import t
from ..models import Attachment, QueuedRequest, Request, Student
from ..services.common.paging import page_of
from ..services.record import students
from ..services.requests import holds, kinds, queue, transfers
from ..services.requests import workflow as svc
from ..web.common import actor, now
from .common import BadInput, DomainApi, Scalar, Strict, Whole, json_body, load, paged, paging, text

LOOKUP_KEYS = ("registry_no", "id_number", "name")


class Evidence(Strict):
    filename = text(200, required=True)
    content_base64 = fields.String(required=True)


def _payload() -> fields.Dict:
    return fields.Dict(keys=text(40), values=Scalar(allow_none=True), allow_none=True)


def _evidence() -> fields.List:
    return fields.List(fields.Nested(Evidence), allow_none=True, validate=Length(max=20))


class Filing(Strict):
    """POST /api/v1/request/."""

    kind = text(40, required=True)
    student_id = Whole()
    registry_no = text(40)
    id_number = text(30)
    name = text(50)
    payload = _payload()
    reason = text(100, allow_none=True)
    note = text(500, allow_none=True)
    target_class_id = Whole(allow_none=True)
    evidence = _evidence()
    queue = fields.Boolean(strict=True)  # 窗口开放时自动提交: queue what a closed window refuses


class Decision(Strict):
    """POST /api/v1/request/<id>/<verdict>: what each verdict may carry."""

    comment = text(500, allow_none=True)
    expected_step = Whole(0, 100, allow_none=True)
    payload = _payload()
    evidence = _evidence()


# what ``_dump`` reads of a page of requests, loaded with the page (not one query per row)
ROW_LOADS = (selectinload(Request.steps),
             selectinload(Request.attachments).load_only(Attachment.id, Attachment.filename,
                                                          Attachment.size))


def _dump(req: Request, labels: dict | None = None) -> dict:
    held = (labels.get(req.holder, "") if labels is not None
            else holds.holder_label(db.session, req.holder_node, req.holder_role))
    return {"id": req.id, "kind": req.kind, "status": req.status, "student_id": req.student_id,
            "student_name": req.student_name, "summary": req.summary, "variant": req.variant,
            "round": req.round, "step": req.step, "rule_version": req.rule_version,
            "holder": req.current, "held_by": str(held),
            "due_on": req.due_on.isoformat() if req.due_on else None,
            "chain": req.chain, "reason": req.reason, "note": req.note,
            "created_at": req.created_at.isoformat(), "escalation": req.escalation
            if req.escalated_node or (req.escalation or {}).get("round") == req.round else None,
            "steps": [{"action": s.action, "step": s.step, "round": s.round, "actor": s.actor_name,
                       "at": s.at.isoformat(), "comment": s.comment} for s in req.steps],
            "attachments": [{"id": a.id, "filename": a.filename, "size": a.size}
                            for a in req.attachments]}


def _files(items) -> list[tuple[str, bytes]]:
    out = []
    for item in items or []:
        try:
            out.append((str(item["filename"]), base64.b64decode(item["content_base64"], validate=True)))
        except (KeyError, TypeError, ValueError):  # binascii.Error is a ValueError
            raise BadInput(t("证明材料格式：{filename, content_base64}（Base64 编码）",
                             "evidence items are {filename, content_base64} in Base64"), "evidence")
    return out


class RequestApi(DomainApi):
    resource_name = "request"
    class_permission_name = "Request"
    method_permission_name = {"get_list": "list", "get": "show", "inbox": "list", "post": "add",
                              "resubmit": "add", "cancel": "add", "pull": "add", "decide": "decide",
                              "lookup": "add"}

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def get_list(self):
        """Requests of the account's jurisdiction, newest first (?status=&kind=), a page at a time
        (?page= from 0, ?page_size= up to 100; ``count`` is the total)."""
        def run():
            page, size = paging()
            query = select(Request).where(actor().scope.clause(Request))
            for key in ("status", "kind"):
                if request.args.get(key):
                    query = query.where(getattr(Request, key) == request.args[key])
            return _page(query.order_by(Request.id.desc()), page, size)
        return self.answer(run)

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    def get(self, pk):
        return self.answer(lambda: {"result": _dump(svc.load(db.session, actor(), pk))})

    @expose("/inbox", methods=["GET"])
    @protect()
    @safe
    def inbox(self):
        """What waits for the account: steps to decide (status pending), and its school's requests
        returned for correction or waiting to be pulled (status returned / awaiting_pull), oldest
        first, a page at a time (?page=, ?page_size=; ``count`` is the total)."""
        def run():
            page, size = paging()
            return _page(svc.inbox_query(actor()), page, size)
        return self.answer(run)

    @expose("/", methods=["POST"])
    @protect()
    @safe
    def post(self):
        """File a request: {kind, student_id, payload?, reason?, note?, target_class_id?, evidence?}.

        A transfer names its student by the exact look-up instead of ``student_id`` (refused):
        {kind: "transfer", registry_no, ...} or {kind: "transfer", id_number, name, ...}; the
        look-up is logged, as ``/transfer-lookup`` logs it.  A graduate of another province going
        on to the filing school (毕业后跨省就学) is {kind: "enroll_cross_province", registry_no,
        target_class_id, evidence?}: the registry number alone.  ``target_class_id`` is a class of
        the filing school.  ``queue: true``: when only a closed window refuses it, it is queued and
        submitted when the window opens (201 with ``queued: true``; see /api/v1/queued_request/)."""
        def run():
            data, who = load(Filing, json_body()), actor()
            student = _student(data, who)
            klass = svc.own_class(db.session, who, data.get("target_class_id"), "target_class_id")
            req = svc.start(db.session, kind=data["kind"], student=student, actor=who,
                            now=now(), payload=data.get("payload") or {}, reason=data.get("reason"),
                            note=data.get("note"), target_class=klass,
                            files=_files(data.get("evidence")), queue=bool(data.get("queue")))
            if isinstance(req, QueuedRequest):  # the window is closed: it waits in the queue
                return {"id": req.id, "queued": True, "result": queue.as_dict(req)}
            return {"id": req.id, "result": _dump(req)}
        return self.answer(run, 201)

    @expose("/<int:pk>/<string:verdict>", methods=["POST"])
    @protect()
    @safe
    def decide(self, pk, verdict):
        """approve / reject / return the step waiting for you: {comment?, expected_step?};
        resubmit {payload?, comment?, evidence?}; cancel {comment?}; pull."""
        def run():
            data = load(Decision, json_body(optional=True))
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
        return self.answer(run)

    @expose("/transfer-lookup", methods=["POST"])
    @protect()
    @safe
    def lookup(self):
        """{registry_no} or {id_number, name}: the card of the record a receiving school may file a
        transfer for (logged); file it with the same keys on ``POST /``."""
        def run():
            data = {k: v for k, v in load(Filing, {"kind": "transfer", **json_body()}).items()
                    if k in LOOKUP_KEYS}
            student = transfers.lookup(db.session, actor(), registry_no=data.get("registry_no"),
                                       id_number=data.get("id_number"), name=data.get("name"))
            return {"result": transfers.card(student)}
        return self.answer(run)


def _page(query, page: int, size: int) -> dict:
    """One page of requests as the list answers it: in a fixed number of statements."""
    found = page_of(db.session, query, page=page, size=size, options=ROW_LOADS)
    labels = holds.holder_labels(db.session, (r.holder for r in found.rows))
    return paged(found, [_dump(r, labels) for r in found.rows])


def _student(data: dict, who) -> Student:
    """The request's student: a transfer's through the exact look-up (logged), any other kind's
    by id inside the account's jurisdiction.  The kind is one a school may start (422 if not)."""
    declared = kinds.startable(data["kind"])
    if declared.from_other_school:
        if "student_id" in data:
            raise BadInput(t("转学申请凭学籍号，或身份证件号与姓名查找学生，不接受 student_id",
                             "a transfer names its student by registry_no, or id_number and name, "
                             "never by student_id"), "student_id")
        return transfers.lookup_for(db.session, who, declared, registry_no=data.get("registry_no"),
                                    id_number=data.get("id_number"), name=data.get("name"))
    extra = [key for key in LOOKUP_KEYS if key in data]
    if extra:
        raise BadInput(t(f"只有转学申请凭 {extra[0]} 查找学生", f"only a transfer is filed by {extra[0]}"),
                       extra[0])
    return students.get_in_scope(db.session, who, data.get("student_id"), "student_id")
