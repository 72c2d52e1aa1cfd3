"""Pages for requests: the list, a request's page (its student, chain, history, evidence,
decisions), filing a request for a student, receiving a transfer; the inbox is in ``inbox``."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access

from ..errors import DomainError
from ..extensions import db
from ..fields import STUDENT_FIELD_BY_NAME
from ..i18n import t
from ..models import Attachment, QueuedRequest, Request, School, Student
from ..policy.vocab import ROLE_ZH
from ..services.policy import rulesets as policy
from ..services.requests import attachments, escalation, kinds, messages, queue, transfers
from ..services.requests import workflow as svc
from ..web.common import actor, attachment, fetch_or_404, interface, now
from ..web.labels import flash_problems
from ..web.pickers import class_choices
from .base import ScopedModelView
from .inbox import InboxView
from .request_subject import STATUS, held_by, kind_label, step_words, subject

__all__ = ["InboxView", "RequestView"]
STARTABLE = kinds.OWN_STUDENT  # a transfer is filed on the receiving page (transfer_in)


def _asked(names=STARTABLE) -> dict[str, list[str]]:
    """Each field of the filing page, with the kinds offered that ask for it (their declarations)."""
    return {field: [n for n in names if field in kinds.get(n).asks] for field in kinds.FIELDS}


def _files() -> list:
    return [f for f in request.files.getlist("evidence") if f and f.filename]


class RequestView(ScopedModelView):
    route_base = "/requests"
    datamodel = interface(Request)
    class_permission_name = "Request"
    base_permissions = ["can_list", "can_show", "can_add", "can_decide"]
    method_permission_name = {"new": "add", "transfer_in": "add", "resubmit": "add",
                              "cancel": "add", "pull": "add", "decide": "decide",
                              "attachment": "show"}
    list_title = t("业务办理", "Requests")
    list_columns = ["id", "kind", "student_name", "summary", "status", "holder", "due_on",
                    "created_at"]
    search_columns = ["kind", "status", "student_name", "created_at"]
    base_order = ("id", "desc")
    label_columns = {"id": t("编号", "No."), "kind": t("业务", "Kind"),
                     "student_name": t("学生", "Student"), "summary": t("内容", "About"),
                     "status": t("状态", "Status"), "holder": t("当前办理", "Held by"),
                     "due_on": t("办理期限", "Due"), "created_at": t("发起时间", "Started")}
    formatters_columns = {"kind": kind_label, "status": lambda s: STATUS.get(s, s), "holder": held_by}

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk):
        req = self.get_or_404(pk)
        who = actor()
        step = req.current
        forced = escalation.may_decide(req, who)  # 强制干预: decided from the level above
        mine = bool(step and who.node == step["node"] and step["role"] in who.functions
                    and who.user_id != req.requester_id) or forced
        requester = who.school_id == req.origin_school_id and "registrar" in who.functions
        declared = kinds.get(req.kind)
        about = subject(req, who)
        messages.mark_read(db.session, who, request_id=req.id)  # opening a request reads its messages
        return self.render_template("xueji/request_show.html", req=req, mine=mine,
                                    requester=requester, status=STATUS, kind=declared.label,
                                    asks=declared.asks, cancellable=declared.cancellable,
                                    fields=STUDENT_FIELD_BY_NAME, role_zh=ROLE_ZH,
                                    today=now().date(), about=about, full=about.full,
                                    holder=held_by(req.holder), step_words=step_words,
                                    forced=forced)

    def _act(self, pk, fn, done):
        """Run one request action, say how it went, and go back to the request's page."""
        try:
            fn()
            flash(done, "success")
        except DomainError as exc:
            flash_problems(exc)
        return redirect(url_for("RequestView.show", pk=pk))

    @expose("/<int:pk>/decide", methods=["POST"])
    @has_access
    def decide(self, pk):
        return self._act(pk, lambda: svc.decide(
            db.session, pk, actor(), request.form.get("verdict", ""), now(),
            comment=request.form.get("comment"), expected_step=request.form.get("step", type=int)),
            t("已核办", "decided"))

    @expose("/<int:pk>/resubmit", methods=["POST"])
    @has_access
    def resubmit(self, pk):
        return self._act(pk, lambda: svc.resubmit(
            db.session, pk, actor(), now(), comment=request.form.get("comment"), files=_files(),
            payload=_payload() or None), t("已重新提交", "resubmitted"))

    @expose("/<int:pk>/cancel", methods=["POST"])
    @has_access
    def cancel(self, pk):
        return self._act(pk, lambda: svc.cancel(db.session, pk, actor(), now(),
                                                comment=request.form.get("comment")),
                         t("已撤销", "cancelled"))

    @expose("/<int:pk>/pull", methods=["POST"])
    @has_access
    def pull(self, pk):
        return self._act(pk, lambda: svc.pull(db.session, pk, actor(), now()),
                         t("已调档，学生已转入", "pulled: the student has moved in"))

    @expose("/attachment/<int:aid>")
    @has_access
    def attachment(self, aid):
        item = db.session.get(Attachment, aid)
        if item is None:
            abort(404)
        self.get_or_404(item.request_id)
        return attachment(attachments.read(item), item.filename, item.content_type)

    @expose("/new/<int:student_id>", methods=["GET", "POST"])
    @has_access
    def new(self, student_id):
        who = actor()
        student = fetch_or_404(Student, student_id)
        if request.method == "POST":
            try:
                req = svc.start(db.session, kind=request.form.get("kind", ""), student=student,
                                actor=who, now=now(), payload=_payload(), files=_files(),
                                reason=request.form.get("reason") or None,
                                note=request.form.get("note") or None,
                                target_class=_class(request.form.get("target_class", type=int)),
                                queue=_queue_ticked())
                return _filed(req)
            except DomainError as exc:
                flash_problems(exc)
        closed = queue.closed_now(db.session, student, student.school, now(), STARTABLE)
        return self.render_template("xueji/request_new.html", student=student, kinds=STARTABLE,
                                    asked=_asked(), kind_label=kind_label, closed=closed,
                                    **_form_context(student))

    @expose("/transfer-in", methods=["GET", "POST"])
    @has_access
    def transfer_in(self):
        """Look up (POST only: an ID number never travels in a URL), then confirm the card shown;
        the confirmation looks up again, logged, and files only the record the card showed."""
        who = actor()
        found = None
        form = request.form if request.method == "POST" else {}
        if form.get("registry_no") or form.get("id_number"):
            try:
                found = transfers.lookup(db.session, who, registry_no=form.get("registry_no"),
                                         id_number=form.get("id_number"), name=form.get("name"))
            except DomainError as exc:
                flash_problems(exc)
        confirmed = found is not None and form.get("confirm")
        if confirmed and form.get("found", type=int) != found.id:
            flash(t("查找结果与确认的学生不一致，请核对后重新确认", "the record found is not the one "
                    "you confirmed: check it and confirm again"), "danger")
        elif confirmed:
            try:
                req = svc.start(db.session, kind="transfer", student=found, actor=who, now=now(),
                                files=_files(), note=form.get("note") or None,
                                target_class=_class(form.get("target_class", type=int)),
                                queue=_queue_ticked())
                return _filed(req)
            except DomainError as exc:
                flash_problems(exc)
        classes = class_choices(who.school_id, found.grade.number if found and found.grade else None)
        closed = queue.closed_now(db.session, found, db.session.get(School, who.school_id), now(),
                                  ("transfer",)) if found is not None and who.school_id else {}
        return self.render_template("xueji/transfer_in.html", found=found and transfers.card(found),
                                    classes=classes, form=form, closed=closed)


def _queue_ticked() -> bool:
    """The filer ticked 窗口开放时自动提交: what only a closed window refuses waits in the queue."""
    return bool(request.form.get("queue"))


def _filed(req):
    """Where a filing leads: the request's page, or the queue with the day its window opens."""
    if isinstance(req, QueuedRequest):
        flash(t(f"不在办理时间内，已登记排队（排队 #{req.id}），{req.opens_on} 窗口开放时自动提交",
                f"queued (#{req.id}): submitted automatically when its window opens on {req.opens_on}"),
              "success")
        return redirect(url_for("QueuedView.index"))
    flash(t(f"已提交业务 #{req.id}", f"request {req.id} filed"), "success")
    return redirect(url_for("RequestView.show", pk=req.id))


def _class(class_id: int | None):
    """The target class: one of the filing school's own (another school's is not found)."""
    return svc.own_class(db.session, actor(), class_id)


def _payload() -> dict:
    """The key-field change rows of the form: field_1/value_1, field_2/value_2 ..."""
    out = {}
    for key, name in request.form.items():
        if key.startswith("field_") and name:
            value = request.form.get("value_" + key[6:], "").strip()
            out[name] = value if value != "" else None
    return out


def _form_context(student) -> dict:
    eff = policy.effective_for(db.session, student.school)
    reasons = {k: list(a.reasons.value) for k, a in eff.actions.items() if a.reasons}
    evidence = {k: list(a.evidence.value) for k, a in eff.actions.items() if a.evidence}
    steps = sorted({kinds.get(n).grade_step for n in STARTABLE if "target_class" in kinds.get(n).asks},
                   key=abs)  # the student's own grade first, then one down (留级) and one up (跳级)
    classes = class_choices(student.school_id, student.grade.number if student.grade else None, steps,
                            only=True)
    controlled = [(n, STUDENT_FIELD_BY_NAME[n].header) for n in sorted(eff.controlled)
                  if n in STUDENT_FIELD_BY_NAME]
    return {"reasons": reasons, "evidence": evidence, "classes": classes, "controlled": controlled}
