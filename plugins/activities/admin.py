"""Admin screens for organisers and the platform: publish and review activities, confirm sign-ups,
check-in codes, outcome with photos, hours confirmation, staffing (R-ACT-1, 4, 7, 8, 10)."""
from __future__ import annotations

import datetime as _dt

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from core import audit, inputs, security
from core.admin import AdminForm, ReadOnlyModelView, SecureModelView
from plugins.teams.models import Team
from core.admin import RowFilter  # the sign-ups list filtered by activity (list_url)
from core.web import due_date
from plugins.teams.services import admin_team_ids
from plugins.volunteers.models import DISTRICTS

from . import photos, services
from .models import Activity, Category, ServiceRecord, Shift, SignUp

STATUS = {"draft": _l("Draft"), "submitted": _l("Waiting for review"), "approved": _l("Approved"),
          "rejected": _l("Rejected"), "published": _l("Published"), "finished": _l("Finished"),
          "closed": _l("Hours confirmed"), "cancelled": _l("Cancelled"), "pending": _l("Waiting for the organiser"),
          "confirmed": _l("Confirmed"), "waitlisted": _l("Waiting list"), "declined": _l("Not accepted")}
LABELS = {"title": _l("Title"), "team": _l("Team"), "kind": _l("Kind"), "status": _l("Status"),
          "starts_at": _l("Starts"), "ends_at": _l("Ends"), "review_due": _l("Review due"),
          "capacity": _l("Places"), "confirmed": _l("Confirmed"), "district": _l("District"),
          "address": _l("Address"), "category": _l("Category"), "field": _l("Service field"),
          "description": _l("Description"), "more_info": _l("More information"),
          "contact_name": _l("Contact"), "contact_phone": _l("Contact phone"),
          "review_reason": _l("Review note"), "activity": _l("Activity"), "shift": _l("Time slot"),
          "volunteer": _l("Volunteer"), "volunteer_type": _l("Volunteer type"),
          "check_in_at": _l("Check-in"), "check_out_at": _l("Check-out"), "post": _l("Post"),
          "mentor": _l("Paired with (experienced volunteer)"), "reason": _l("Reason"),
          "decided_at": _l("Decided at"), "time_note": _l("Reason for changing the times"),
          "confirmed_at": _l("Confirmed at"), "confirmed_by": _l("Confirmed by"), "signup": _l("Sign-up"),
          "created_at": _l("Signed up at"), "service_date": _l("Date"), "minutes": _l("Minutes"),
          "version": _l("Version"), "change_reason": _l("Reason of change"), "served_count": _l("People served"),
          "beneficiary_types": _l("Types of people served"), "summary": _l("Summary"),
          "is_party_service": _l("Party-member volunteer service"), "auto_confirm": _l("Confirm automatically")}


def _status(view, context, model, name):
    return STATUS.get(getattr(model, name), getattr(model, name))


DT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class ActivityForm(AdminForm):
    team = SelectField(_l("Team"), coerce=int)
    kind = SelectField(_l("Kind"), choices=[("service", _l("Volunteer activity")), ("training", _l("Training"))])
    title = StringField(_l("Title"))
    category = SelectField(_l("Category"), coerce=int)
    field = SelectField(_l("Service field"), coerce=int, validators=[Optional()])
    district = SelectField(_l("District"), choices=[(d, d) for d in DISTRICTS])
    address = StringField(_l("Address"))
    latitude = StringField(_l("Latitude (optional)"))
    longitude = StringField(_l("Longitude (optional)"))
    description = TextAreaField(_l("Description"))
    more_info = TextAreaField(_l("More information"))
    contact_name = StringField(_l("Contact"))
    contact_phone = StringField(_l("Contact phone"))
    auto_confirm = BooleanField(_l("Confirm automatically, first come first served"), default=True)
    is_party_service = BooleanField(_l("Party-member volunteer service"))
    volunteer_type = StringField(_l("Volunteer type of the first slot"))
    slot_start = DateTimeLocalField(_l("First slot starts"), format=DT_FORMATS, validators=[Optional()])
    slot_end = DateTimeLocalField(_l("First slot ends"), format=DT_FORMATS, validators=[Optional()])
    slot_capacity = IntegerField(_l("Headcount of the first slot"), validators=[Optional()])


# An activity and all its time slots in one form (issue 18 point 4): slots 2..SLOTS_IN_FORM are optional
# rows (a row left empty is no slot); more can be added later under 活动 → 时段. The browser shows a date
# and time picker (input type=datetime-local).
SLOTS_IN_FORM = 4
SLOT_FIELDS = ("volunteer_type", "slot_start", "slot_end", "slot_capacity")


def _slot_names(n: int) -> tuple[str, ...]:
    return SLOT_FIELDS if n == 1 else tuple(f"{f}_{n}" for f in SLOT_FIELDS)


for _n in range(2, SLOTS_IN_FORM + 1):
    _vt, _st, _en, _cap = _slot_names(_n)
    setattr(ActivityForm, _vt, StringField(_l("Volunteer type of slot %(n)s", n=_n)))
    setattr(ActivityForm, _st, DateTimeLocalField(_l("Slot %(n)s starts", n=_n), format=DT_FORMATS,
                                                  validators=[Optional()]))
    setattr(ActivityForm, _en, DateTimeLocalField(_l("Slot %(n)s ends", n=_n), format=DT_FORMATS,
                                                  validators=[Optional()]))
    setattr(ActivityForm, _cap, IntegerField(_l("Headcount of slot %(n)s", n=_n), validators=[Optional()]))


def _slots_from(d: dict) -> tuple[list[dict], list[int]]:
    """The slots typed in the form, in order (rows left empty skipped), and each one's row number."""
    slots, rows = [], []
    for n in range(1, SLOTS_IN_FORM + 1):
        vt, st, en, cap = _slot_names(n)
        if n > 1 and not any(d.get(k) not in (None, "") for k in (st, en, cap)):
            continue
        slots.append({"starts_at": d.get(st), "ends_at": d.get(en), "capacity": d.get(cap),
                      "volunteer_type": d.get(vt)})
        rows.append(n)
    return slots, rows


def _form_errors(form, err, rows=(1,)):
    """A service's field errors beside the fields; ``shifts.<i>.<field>`` go to the i-th slot row typed."""
    for f, m in err.errors.items():
        key = f
        if f == "shifts":
            key = "slot_start"
        elif f.startswith("shifts."):
            _s, i, name = (f.split(".") + ["", ""])[:3]
            row = rows[int(i)] if i.isdigit() and int(i) < len(rows) else 1
            key = {"starts_at": "slot_start", "ends_at": "slot_end", "capacity": "slot_capacity",
                   "volunteer_type": "volunteer_type"}.get(name, "slot_start")
            key = key if row == 1 else f"{key}_{row}"
        if hasattr(form, key):
            getattr(form, key).errors.append(str(m))
        else:
            flash(str(m), "error")


class PhotoMixin:
    @expose("/photo/<int:photo_id>")
    def photo(self, photo_id):
        from flask import send_file
        from .models import Photo
        p = Photo.get_or_none(Photo.id == photo_id)
        if p is None or self.get_one(p.activity_id) is None:
            abort(404)
        if p.shows_recipients:  # R-PRIV-3: the original of a photo showing recipients, seen by staff
            audit.log("photo.original_viewed", p)
        resp = send_file(photos.path_of(p), mimetype=p.content_type, max_age=0)
        resp.headers["Content-Disposition"] = "inline"
        resp.headers["Cache-Control"] = "private, no-store"
        return resp

    @expose("/photo/<int:photo_id>/blurred")
    def photo_blurred(self, photo_id):
        """The stored copy with the faces blurred (R-PRIV-3), what the public may be shown."""
        from flask import send_file
        from .models import Photo
        p = Photo.get_or_none(Photo.id == photo_id)
        if p is None or not p.blurred_name or self.get_one(p.activity_id) is None:
            abort(404)
        resp = send_file(photos.folder() / p.blurred_name, mimetype=p.content_type, max_age=0)
        resp.headers["Content-Disposition"] = "inline"
        resp.headers["Cache-Control"] = "private, no-store"
        return resp


class ActivityView(PhotoMixin, SecureModelView):
    field_error_map = {"shifts.0.starts_at": "slot_start", "shifts.0.ends_at": "slot_end",
                       "shifts.0.capacity": "slot_capacity", "shifts.0.volunteer_type": "volunteer_type",
                       "shifts": "slot_start"}
    permission = "activities.activity"
    column_list = ["title", "team", "kind", "status", "starts_at", "review_due", "capacity", "confirmed"]
    column_searchable_list = ["title"]
    column_filters = ["status", "kind", "district", "starts_at", "review_due"]
    column_default_sort = ("starts_at", True)
    column_labels = LABELS
    column_formatters = {"status": _status, "kind": lambda v, c, m, n: _("Training") if m.kind == "training"
                         else _("Volunteer activity"),
                         "review_due": lambda v, c, m, n: due_date(m.review_due, "%Y-%m-%d %H:%M"),
                         "outcome_due": lambda v, c, m, n: due_date(m.outcome_due, "%Y-%m-%d %H:%M")}
    column_details_list = ["title", "team", "kind", "status", "category", "field", "district", "address",
                           "description", "contact_name", "contact_phone", "starts_at", "ends_at", "capacity",
                           "confirmed", "review_due", "review_reason", "served_count", "beneficiary_types",
                           "summary"]
    details_template = "activities/admin_details.html"
    allow_delete = False
    simple_list_pager = True

    def scaffold_form(self):
        return ActivityForm

    def _fill_choices(self, form):
        ids = admin_team_ids(current_user)
        q = Team.select().where(Team.status == "approved")
        if ids is not None:
            q = q.where(Team.id.in_(ids or [-1]))
        form.team.choices = [(t.id, t.name) for t in q.order_by(Team.name)]
        # both kinds' categories: the service checks the one chosen fits the kind
        form.category.choices = [(c.id, c.name) for c in services.categories("category")] + \
            [(c.id, f"{c.name}（{_('Training')}）") for c in services.categories("training")]
        form.field.choices = [(0, "—")] + [(c.id, c.name) for c in services.categories("field")]
        return form

    def create_form(self, obj=None):
        form = self._fill_choices(super().create_form(obj))
        if not form.is_submitted():  # the admin's own team first (the root of their tree)
            own = [int(sc.split(":")[1]) for sc in security.role_scopes(current_user, "team_admin")
                   if sc.startswith("team:") and sc.split(":")[1].isdigit()]
            offered = {t for t, _name in form.team.choices}
            if own and own[0] in offered:
                form.team.data = own[0]
            elif len(offered) == 1:
                form.team.data = next(iter(offered))
        return form

    def edit_form(self, obj=None):
        form = self._fill_choices(super().edit_form(obj))
        for f in ("team", "kind") + tuple(x for n in range(1, SLOTS_IN_FORM + 1) for x in _slot_names(n)):
            delattr(form, f)
        if obj is not None and not form.is_submitted():
            form.category.data = obj.category_id
            form.field.data = obj.field_id or 0
        return form

    def _data(self, form):
        return {k: v for k, v in form.data.items() if k != "csrf_token"}

    def create_model(self, form):
        team = Team.get_or_none(Team.id == form.team.data)
        if team is None or not security.can(self.perm("create"), Activity(team=team)):
            flash(_("You may not save this record."), "error")
            return False
        d = self._data(form)
        slots, rows = _slots_from(d)
        try:
            return services.create_activity(team, d, slots, kind=d["kind"], actor=current_user)
        except services.ActivityError as e:
            _form_errors(form, e, rows)
            return False

    def update_model(self, form, model):
        services.update_activity(model, self._data(form), actor=current_user)
        return True

    def render(self, template, **kwargs):
        kwargs.setdefault("activity_steps", self.steps)
        return super().render(template, **kwargs)

    def steps(self, a: Activity) -> list[tuple[str, object, str]]:
        """The workflow steps this user may take on ``a`` now: (action, label, button style)."""
        out = []
        if a.status in ("draft", "rejected") and security.can(self.perm("edit"), a):
            out.append(("submit", _l("Submit for review"), "primary"))
        if a.status == "approved" and security.can(self.perm("edit"), a):
            out.append(("publish", _l("Publish"), "success"))
        if a.status == "submitted" and security.can("activities.activity.review"):
            out += [("approve", _l("Approve (platform review)"), "success"),
                    ("reject", _l("Reject with a reason"), "outline-danger")]
        return out

    # ---- workflow actions
    def _each(self, ids, fn):
        for a in self.get_query().where(Activity.id.in_(ids)):
            try:
                fn(a)
            except services.ActivityError as e:
                flash(f"{a.title}: " + "; ".join(str(m) for m in e.errors.values()), "error")

    @action("submit", _l("Submit for review"))
    def action_submit(self, ids):
        self._each(ids, lambda a: services.submit(a, actor=current_user))

    @action("publish", _l("Publish"))
    def action_publish(self, ids):
        self._each(ids, lambda a: services.publish(a, actor=current_user))

    @action("approve", _l("Approve (platform review)"))
    def action_approve(self, ids):
        security.require("activities.activity.review")
        self._each(ids, lambda a: services.review(a, approve=True, actor=current_user))

    @expose("/review/", methods=["GET", "POST"])
    def review_view(self):
        """Reject with a reason (the organiser sees it and may edit and resubmit)."""
        security.require("activities.activity.review")
        a = self.get_one(request.values.get("id", ""))
        if a is None:
            abort(404)
        if request.method == "POST":
            try:
                services.review(a, approve=request.form.get("approve") == "1",
                                reason=request.form.get("reason", ""), actor=current_user)
            except services.ActivityError as e:
                flash("; ".join(str(m) for m in e.errors.values()), "error")
            else:
                flash(_("Review saved."), "success")
                return redirect(url_for(".index_view"))
        return self.render("activities/admin_review.html", a=a)

    @expose("/outcome/", methods=["GET", "POST"])
    def outcome_view(self):
        a = self.get_one(request.values.get("id", ""))
        if a is None:
            abort(404)
        security.require(self.perm("edit"), a)
        errors = {}
        if request.method == "POST":
            try:  # IV6: every photo checked before anything is written; text and photos in one transaction
                shows = request.form.get("shows_recipients") == "1"   # R-PRIV-3
                named = photos.clean_recipients(request.form.getlist("recipients"), current_user) if shows else []
                ready = [photos.prepare(f, shows_recipients=shows)
                         for f in request.files.getlist("photos") if f and f.filename]
                photos.store_all(a, ready, actor=current_user, recipient_ids=named,
                                 before=lambda: services.submit_outcome(
                    a, served_count=request.form.get("served_count"),
                    beneficiary_types=request.form.get("beneficiary_types", ""),
                    summary=request.form.get("summary", ""),
                    recorder=request.form.get("recorder", ""), actor=current_user))
            except (services.ActivityError, photos.PhotoError) as e:
                errors = {k: str(m) for k, m in e.errors.items()}
            else:
                flash(_("Outcome saved."), "success")
                return redirect(url_for(".details_view", id=a.id))
        return self.render("activities/admin_outcome.html", a=a, errors=errors,
                           recipients=photos.recipient_choices(a),
                           recipients_loaded=photos.recipients_loaded())

    @expose("/hours/", methods=["GET", "POST"])
    def hours_view(self):
        a = self.get_one(request.values.get("id", ""))
        if a is None:
            abort(404)
        security.require("activities.service_record.create", a)
        rows = list(SignUp.select().where((SignUp.activity == a) & (SignUp.status == "confirmed"))
                    .order_by(SignUp.id))
        records = {r.signup_id: r for r in ServiceRecord.select().where(ServiceRecord.activity == a)}
        errors = {}
        if request.method == "POST":
            minutes, reasons = {}, {}
            for s in rows:
                raw = request.form.get(f"m{s.id}", "").strip()
                if raw == "":
                    continue
                try:  # NS2/IV5: "inf", "1e308", "²" are a field error; the service checks the range
                    minutes[s.id] = round(inputs.parse_decimal(raw, min=0, max=10000) * 60)
                except inputs.InputError:
                    errors[f"signup.{s.id}"] = _("Enter the hours as a number.")
                reasons[s.id] = request.form.get(f"r{s.id}", "")
            if not errors:
                try:
                    services.confirm_hours(a, minutes, reasons=reasons, actor=current_user)
                except services.ActivityError as e:
                    errors = {k: str(m) for k, m in e.errors.items()}
                else:
                    flash(_("Hours confirmed."), "success")
                    return redirect(url_for(".hours_view", id=a.id))
        return self.render("activities/admin_hours.html", a=a, rows=rows, records=records, errors=errors,
                           computed={s.id: services.minutes_from_times(s) for s in rows},
                           zero={s.id: services.zero_hours_reason(s) for s in rows})


class ShiftView(SecureModelView):
    field_error_map = {"shifts.0.starts_at": "starts_at", "shifts.0.ends_at": "ends_at",
                       "shifts.0.capacity": "capacity", "shifts.0.volunteer_type": "volunteer_type",
                       "shifts": "starts_at"}
    permission = "activities.shift"
    column_list = ["activity", "volunteer_type", "starts_at", "ends_at", "capacity", "confirmed"]
    column_labels = LABELS
    form_columns = ["activity", "volunteer_type", "starts_at", "ends_at", "capacity"]
    column_filters = ["starts_at"]

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        from wtforms.validators import ValidationError
        if model.activity.status not in ("draft", "rejected"):
            raise ValidationError(_("Only a draft or a rejected activity can be edited."))
        services.clean_shifts([{"starts_at": model.starts_at, "ends_at": model.ends_at,
                                "capacity": model.capacity, "volunteer_type": model.volunteer_type}])

    def after_model_change(self, form, model, is_created):
        super().after_model_change(form, model, is_created)
        services.refresh_totals(model.activity)


class SignUpView(SecureModelView):
    permission = "activities.signup"
    column_list = ["activity", "shift", "volunteer", "status", "created_at", "check_in_at", "check_out_at",
                   "post", "mentor"]
    # "activity": the activity page's 报名 button links here with core.admin.list_url(activity=id)
    column_filters = ["status", "created_at", RowFilter(SignUp.activity, _l("Activity"))]
    column_default_sort = ("created_at", False)
    column_labels = LABELS
    column_formatters = {"status": _status}
    form_columns = ["post", "mentor", "check_in_at", "check_out_at", "time_note"]
    allow_create = False
    allow_delete = False

    field_error_map = {"reason": "time_note"}

    def update_model(self, form, model):
        if (form.check_in_at.data, form.check_out_at.data) != (model.check_in_at, model.check_out_at):
            services.correct_times(model, form.check_in_at.data, form.check_out_at.data,
                                   reason=form.time_note.data or "", actor=current_user)
        services.assign(model, post=form.post.data or "", mentor=form.mentor.data, actor=current_user)
        return True

    @action("confirm", _l("Confirm selected (in order of arrival)"))
    def action_confirm(self, ids):
        done = services.confirm(list(self.get_query().where(SignUp.id.in_(ids))), actor=current_user)
        flash(_("Confirmed: %(n)s.", n=len(done)), "success")

    @action("decline", _l("Decline selected with a reason"))
    def action_decline(self, ids):
        return redirect(url_for(".decline_view", ids=",".join(map(str, ids))))

    @expose("/decline/", methods=["GET", "POST"])
    def decline_view(self):
        security.require(self.perm("edit"))
        try:
            ids = inputs.parse_ids(request.values.get("ids", ""), max_count=1000)
        except inputs.InputError as e:
            flash(str(e.message), "error")
            return redirect(url_for(".index_view"))
        rows = list(self.get_query().where(SignUp.id.in_(ids or [-1])))
        if request.method == "POST":
            try:
                services.decline(rows, reason=request.form.get("reason", ""), actor=current_user)
            except services.ActivityError as e:
                flash("; ".join(str(m) for m in e.errors.values()), "error")
            else:
                flash(_("Declined: %(n)s.", n=len(rows)), "success")
                return redirect(url_for(".index_view"))
        return self.render("activities/admin_decline.html", rows=rows, ids=ids)


class ServiceRecordView(ReadOnlyModelView):
    permission = "activities.service_record"
    column_list = ["service_date", "volunteer", "activity", "team", "kind", "minutes", "version",
                   "change_reason"]
    column_filters = ["service_date", "kind"]
    column_default_sort = ("service_date", True)
    column_labels = {**LABELS, "minutes": _l("Hours")}  # a person reads hours, not minutes (point 6)
    column_formatters = column_formatters_export = {
        "minutes": lambda v, c, m, n: f"{m.minutes / 60:.1f}",
        "kind": lambda v, c, m, n: _("Training") if m.kind == "training" else _("Volunteer service")}
    simple_list_pager = True


class CategoryView(SecureModelView):
    permission = "activities.category"
    column_list = ["kind", "name", "description", "order"]
    column_filters = ["kind"]
    form_columns = ["name", "description", "order"]
    column_labels = {"kind": _l("Category list"), "name": _l("Name"), "description": _l("Explanation"),
                     "code": _l("Code"), "order": _l("Display order")}
    column_choices = {"kind": [("category", _l("Category")), ("field", _l("Service field")),
                               ("training", _l("Training"))]}
    allow_create = False
    allow_delete = False

    def perm(self, action):
        return "activities.category.edit" if action in ("edit", "create", "delete") else "activities.category.view"
