"""数据质量核查: the campaigns (the province opens and closes them), each campaign's progress with
its drill-down, and a school's page: per class, the three marks of every student's form, bulk and
one by one, the signed forms' photos, and the class's forms to print."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from ..errors import DomainError, NotFound, ValidationFailed
from ..extensions import db
from ..i18n import t
from ..models import School
from ..services.exchange import confirm_forms, export_requests
from ..services.quality import campaigns, forms, progress
from ..services.record import personal_data
from ..web.common import actor, attachment, now
from ..web.labels import flash_problems, problem_text
from .export_requests import held_page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATE_ZH = {key: t(zh, key) for key, zh in campaigns.STATE_ZH.items()}
MARK_ZH = {key: t(zh, key) for key, zh in forms.MARK_ZH.items()}


def _day(name: str) -> date:
    try:
        return date.fromisoformat((request.form.get(name) or "").strip())
    except ValueError:
        raise ValidationFailed(t("日期须为 YYYY-MM-DD", "a date must be YYYY-MM-DD"), name) from None


class QualityView(BaseView):
    """数据质量核查."""

    route_base = "/quality"
    default_view = "index"
    class_permission_name = "QualityCampaign"
    method_permission_name = {"index": "list", "progress": "list", "open": "add", "close": "add",
                              "school": "mark", "mark": "mark", "upload": "mark", "scan": "mark",
                              "printable": "mark"}

    @expose("/")
    @has_access
    def index(self):
        """The campaigns the account sees; the province's form to open one."""
        who = actor()
        rows = campaigns.visible(db.session, who)
        return self.render_template("xueji/quality_index.html", campaigns=rows, today=now().date(),
                                    state=campaigns.state, state_zh=STATE_ZH,
                                    regions=progress.region_choices(db.session, who))

    @expose("/open", methods=["POST"])
    @has_access
    def open(self):
        try:
            row = campaigns.open_campaign(db.session, actor(), region=request.form.get("region", ""),
                                         starts_on=_day("starts_on"), ends_on=_day("ends_on"),
                                         name=request.form.get("name"), note=request.form.get("note"),
                                         now=now())
            flash(t(f"已开启核查活动 #{row.id}", f"campaign {row.id} opened"), "success")
        except DomainError as exc:
            flash_problems(exc)
        return redirect(url_for("QualityView.index"))

    @expose("/<int:pk>/close", methods=["POST"])
    @has_access
    def close(self, pk):
        try:
            campaigns.close_campaign(db.session, actor(), pk, now())
            flash(t(f"已关闭核查活动 #{pk}", f"campaign {pk} closed"), "success")
        except NotFound:
            abort(404)
        except DomainError as exc:
            flash_problems(exc)
        return redirect(url_for("QualityView.index"))

    @expose("/<int:pk>/progress")
    @has_access
    def progress(self, pk):
        """Issued / returned / entered per child of a node, with drill-down and lagging schools."""
        try:
            table = progress.progress(db.session, actor(), pk, now(), request.args.get("node"))
        except NotFound:
            abort(404)
        return self.render_template("xueji/quality_progress.html", table=table, state_zh=STATE_ZH)

    # -- a school's registrar ------------------------------------------------------------------

    def _campaign_id(self, source) -> int | None:
        """The campaign asked for, else the newest open one covering the account's school."""
        asked = source.get("campaign", type=int)
        if asked:
            return asked
        school = db.session.get(School, actor().school_id or 0)
        found = campaigns.open_covering(db.session, school, now().date()) if school else None
        return found.id if found else None

    @expose("/school")
    @has_access
    def school(self):
        """Per class: every student's form marks, bulk marks, single marks, photos, printing."""
        who = actor()
        try:
            classes = forms.classes(db.session, who)
        except DomainError:
            abort(404)
        visible = campaigns.visible(db.session, who)
        campaign_id = self._campaign_id(request.args)
        class_id = request.args.get("class", type=int) or (classes[0].id if classes else None)
        sheet = refused = None
        if campaign_id and class_id:
            try:
                sheet = forms.sheet(db.session, who, campaign_id, class_id)
                school = db.session.get(School, who.school_id)
                campaigns.gate(db.session, who, school, now(), forms.ACTION,
                               campaign=campaigns.get(db.session, who, campaign_id))
            except NotFound:
                abort(404)
            except DomainError as exc:
                refused = [problem_text(p) for p in exc.problems]
        return self.render_template("xueji/quality_school.html", classes=classes, campaigns=visible,
                                    campaign_id=campaign_id, class_id=class_id, sheet=sheet,
                                    refused=refused, marks=forms.MARKS, mark_zh=MARK_ZH,
                                    state=campaigns.state, state_zh=STATE_ZH, today=now().date())

    def _back(self):
        return redirect(url_for("QualityView.school", campaign=request.form.get("campaign"),
                                **{"class": request.form.get("class")}))

    @expose("/mark", methods=["POST"])
    @has_access
    def mark(self):
        """A whole class (``class``) or one student (``student``) marked issued / returned / entered."""
        form, who = request.form, actor()
        corrected = form.get("corrected") == "1"
        try:
            if form.get("student"):
                forms.mark_student(db.session, who, student_id=form.get("student"), mark=form.get("mark", ""),
                                   now=now(), campaign_id=form.get("campaign"), corrected=corrected)
                flash(t("已登记", "marked"), "success")
            else:
                done = forms.mark_class(db.session, who, class_id=form.get("class"), mark=form.get("mark", ""),
                                        now=now(), campaign_id=form.get("campaign"), corrected=corrected)
                flash(t(f"本班 {done.marked} 人已标记{forms.MARK_ZH[done.mark]}，{done.already} 人此前已标记，"
                        f"{done.skipped} 人尚未到这一步", f"{done.marked} marked, {done.already} already, "
                        f"{done.skipped} not ready"), "success")
        except DomainError as exc:
            flash_problems(exc)
        return self._back()

    @expose("/upload", methods=["POST"])
    @has_access
    def upload(self):
        upload = request.files.get("file")
        data = upload.read(forms.SCAN_MAX_BYTES + 1) if upload is not None else b""
        try:
            forms.upload_scan(db.session, actor(), student_id=request.form.get("student"), data=data,
                              now=now(), campaign_id=request.form.get("campaign"))
            flash(t("已上传签字确认表", "signed form uploaded"), "success")
        except DomainError as exc:
            flash_problems(exc)
        return self._back()

    @expose("/scan")
    @has_access
    def scan(self):
        """The photo of a student's signed form (personal data: the view is logged)."""
        who = actor()
        try:
            data, mime, student = forms.read_scan(db.session, who, request.args.get("campaign"),
                                                  request.args.get("student"))
        except DomainError:
            abort(404)
        personal_data.record_view(db.session, who, student, ["quality_form_scan"], "web")
        return attachment(data, f"确认表-{student.id}.{'png' if mime == 'image/png' else 'jpg'}", mime)

    @expose("/forms")
    @has_access
    def printable(self):
        """One class's confirmation forms to print (PDF or Excel), under the campaign's gate."""
        who = actor()
        try:
            classes = {c.id: c for c in forms.classes(db.session, who)}
        except DomainError:
            abort(404)
        klass = classes.get(request.args.get("class", type=int) or 0) or abort(404)
        pdf = request.args.get("format") != "xlsx"
        try:
            data = (confirm_forms.forms_pdf if pdf else confirm_forms.forms_xlsx)(
                db.session, who, klass.school, now(), class_id=klass.id)
        except export_requests.ExportHeld as exc:  # above the rules' threshold: the form that files it
            return held_page(self, exc, export_requests.What(f"confirmation_{'pdf' if pdf else 'xlsx'}",
                                                             klass.school, klass.id))
        except DomainError as exc:
            flash_problems(exc)
            return redirect(url_for("QualityView.school", campaign=request.args.get("campaign"),
                                    **{"class": klass.id}))
        name = f"确认表-{klass.school.code}-{klass.name}.{'pdf' if pdf else 'xlsx'}"
        return attachment(data, name, "application/pdf" if pdf else XLSX)
