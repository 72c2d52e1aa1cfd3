"""The policy page: the effective policy of any node of one's subtree, each value with its source;
editing one's own level's rule file with validation and a diff before activation; the history."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from sqlalchemy import select

from ..extensions import db
from ..i18n import t
from ..models import Jurisdiction, RuleSetVersion, School
from ..policy import ACTIONS, STAGES, RuleSetInvalid, load_texts
from ..security.scoping import current_scope
from ..services.policy import rulesets as policy
from ..web.common import actor
from .policy_words import policy_words

MAX_RULE_FILE = 200_000


def _nodes():
    scope = current_scope()
    nodes = db.session.scalars(select(Jurisdiction).where(scope.clause(Jurisdiction))
                               .order_by(Jurisdiction.code)).all()
    schools = db.session.scalars(select(School).where(scope.clause(School))
                                 .order_by(School.code)).all()
    return nodes, schools


def _node(code: str | None):
    """The jurisdiction or school named by ``code``, if it is inside the account's subtree."""
    nodes, schools = _nodes()
    by_code = {n.code: n for n in nodes} | {s.code: s for s in schools}
    if code is None:
        return (nodes or schools or [None])[0]
    node = by_code.get(code)
    if node is None:
        abort(404)
    return node


def _own_bureau():
    """The bureau whose rule file this administrator may edit, or None."""
    scope = current_scope()
    if scope.level not in ("province", "city", "county"):
        return None
    return db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == scope.code))


class PolicyView(BaseView):
    route_base = "/policy"
    class_permission_name = "Policy"
    default_view = "index"
    method_permission_name = {"index": "list", "history": "list", "version": "show",
                              "edit": "edit", "preview": "edit", "activate": "edit"}

    @expose("/")
    @has_access
    def index(self):
        node = _node(request.args.get("node"))
        nodes, schools = _nodes()
        ruleset = policy.current(db.session)
        eff = policy.effective_for(db.session, node) if node is not None else None
        return self.render_template(
            "xueji/policy_index.html", node=node, nodes=nodes, schools=schools, eff=eff,
            ruleset=ruleset, actions=ACTIONS, stages=STAGES, own=_own_bureau(), **policy_words())

    @expose("/edit/", methods=["GET"])
    @has_access
    def edit(self):
        bureau = _own_bureau()
        if bureau is None or not actor().may("Policy", "edit"):
            abort(403)
        name = policy.editable_file(bureau.code)
        text = policy.current_texts(db.session).get(name, _template(bureau))
        return self.render_template("xueji/policy_edit.html", name=name, text=text, bureau=bureau)

    @expose("/preview/", methods=["POST"])
    @has_access
    def preview(self):
        bureau = _own_bureau()
        if bureau is None:
            abort(403)
        name = policy.editable_file(bureau.code)
        text = _submitted_text()
        if text is None:
            return redirect(url_for("PolicyView.edit"))
        texts = policy.current_texts(db.session)
        old = texts.get(name, "")
        texts[name] = text
        problems = []
        try:
            load_texts(texts)
        except RuleSetInvalid as exc:
            problems = [str(p) for p in exc.problems]
        return self.render_template("xueji/policy_edit.html", name=name, text=text, bureau=bureau,
                                    problems=problems, diff=policy.diff(old, text, name),
                                    unchanged=old == text)

    @expose("/activate/", methods=["POST"])
    @has_access
    def activate(self):
        bureau = _own_bureau()
        if bureau is None:
            abort(403)
        name = policy.editable_file(bureau.code)
        texts = policy.current_texts(db.session)
        texts[name] = request.form.get("text", "")
        try:
            row = policy.activate(db.session, texts, by=actor().username,
                                  note=request.form.get("note") or None)
        except RuleSetInvalid as exc:
            for problem in exc.problems:
                flash(str(problem), "danger")
            flash(t("规则未生效：现行规则保持不变", "refused: the rules in force stay in force"), "danger")
            return redirect(url_for("PolicyView.edit"))
        flash(t(f"规则集 v{row.id} 已生效", f"rule set v{row.id} is in force") if row else
              t("没有变化", "nothing changed"), "success")
        return redirect(url_for("PolicyView.history"))

    @expose("/history/")
    @has_access
    def history(self):
        rows = db.session.scalars(select(RuleSetVersion).order_by(RuleSetVersion.id.desc())).all()
        return self.render_template("xueji/policy_history.html", rows=rows)

    @expose("/version/<int:vid>")
    @has_access
    def version(self, vid: int):
        row = db.session.get(RuleSetVersion, vid)
        if row is None:
            abort(404)
        return self.render_template("xueji/policy_version.html", row=row)


def _submitted_text() -> str | None:
    upload = request.files.get("upload")
    if upload is not None and upload.filename:
        data = upload.read(MAX_RULE_FILE + 1)
        if len(data) > MAX_RULE_FILE:
            flash(t("文件过大", "file too large"), "danger")
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            flash(t("规则文件须为 UTF-8 文本", "a rule file must be UTF-8 text"), "danger")
            return None
    return request.form.get("text", "")


def _template(bureau) -> str:
    return (f"# {bureau.name} ({bureau.code}) — rules of this {bureau.level}; see rules/README.md\n"
            f"level: {bureau.level}\ncode: \"{bureau.code}\"\nname: {bureau.name}学籍管理规则\n")
