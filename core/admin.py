"""The generated admin (Flask-Admin, peewee backend) with the kernel's rules built into one base view.

``SecureModelView`` is what every plugin subclasses. It enforces, for list, details, create, edit,
delete, bulk actions, inline edits, export, ajax lookups and relation pickers alike:
- page permissions ``<permission>.view|create|edit|delete|export`` (AC7) and object checks (``can``);
- row-level scoping through ``security.scoped`` (AC6: the Flask-Admin traps of SECURITY.md);
- CSRF on every POST (Flask-WTF's global protection; forms carry the token) (AC5);
- sensitive columns left out of lists and exports and masked on screen (AC9, PR5);
- export as CSV and XLSX with formula escaping (IV8); every change audited;
- every create, edit and delete in one transaction: a service's ``core.errors.FieldErrors`` undoes it
  and shows each message beside its field (``put_field_errors``).
"""
from __future__ import annotations

import functools
import re

from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.babel import Translations as _AdminTranslations  # noqa: F401 (ensures domain import)
from flask_admin.contrib.peewee import ModelView
from flask_admin.model import typefmt as _typefmt
from flask_admin.contrib.peewee.ajax import QueryAjaxModelLoader
from flask_admin.contrib.peewee.filters import BasePeeweeFilter as _BasePeeweeFilter
from flask_admin.contrib.peewee.filters import FilterConverter as _PeeweeFilterConverter
from flask_admin.contrib.peewee.form import CustomModelConverter as _PeeweeModelConverter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from . import audit, exports, security
from .errors import FieldErrors

# The escaping of export cells lives in core.exports (IV8, NS6); re-exported here for older imports.
from .exports import FORMULA_PREFIXES, escape_formula  # noqa: E402,F401


def format_datetime(view, value, name=None):
    """Admin display of times: local wall time to the minute (times are stored Asia/Shanghai)."""
    return value.strftime("%Y-%m-%d %H:%M")


def format_bool(view, value, name=None):
    """是 / 否, not an icon whose title is the English "true" (issue 18 point 6)."""
    return _("Yes") if value else _("No")


def _type_formatters(base):
    import datetime as _dt
    out = dict(base)
    out[_dt.datetime] = format_datetime
    out[bool] = format_bool
    return out


def default_mask(value) -> str:
    s = "" if value is None else str(value)
    if len(s) <= 2:
        return "*" * len(s)
    if len(s) <= 7:
        return s[0] + "*" * (len(s) - 2) + s[-1]
    keep = 3 if len(s) <= 11 else 6
    return s[:keep] + "*" * (len(s) - keep - 4) + s[-4:]


class FilterConverter(_PeeweeFilterConverter):
    """Finds filters for field subclasses (e.g. DateTimeTZField) by walking the class hierarchy. Number
    filters parse their value through ``core.inputs`` (NS2): ``?flt0_1=inf`` or a number past 2⁶³ is an
    ignored filter, not a database overflow."""

    def convert(self, type_name, column, name):
        for cls in type(column).__mro__:
            found = super().convert(cls.__name__, column, name)
            if found is not None:
                return [_bounded_filter(f) for f in found]
        return None


def _bounded_filter(flt):
    from flask_admin.model import filters as F
    from . import inputs
    if isinstance(flt, F.BaseIntFilter):
        flt.clean = lambda value: inputs.parse_int(value)
    elif isinstance(flt, F.BaseFloatFilter):
        flt.clean = lambda value: inputs.parse_float(value)
    elif isinstance(flt, F.BaseIntListFilter):
        flt.clean = lambda value: [inputs.parse_int(v) for v in value.split(",") if v.strip()]
    elif isinstance(flt, F.BaseFloatListFilter):
        flt.clean = lambda value: [inputs.parse_float(v) for v in value.split(",") if v.strip()]
    return flt


class AdminForm(FlaskForm):
    """Flask-Admin forms carrying the Flask-WTF CSRF token (one CSRF mechanism for the whole site).
    Every IntegerField, FloatField and DecimalField of an admin form is bound as the bounded field of
    ``core.inputs`` (NS2): ``²``-style digits normalised, ``inf``/``1e308``/a number past what the column
    holds a field error, never a database overflow."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            from .inputs import bounded_field
            return super().bind_field(form, bounded_field(unbound_field), options)

        def get_translations(self, form):
            from flask_admin.babel import Translations
            return Translations()


def pk_value(model, value):
    """``value`` (from a URL or a form) as a primary key of ``model``, or None when it cannot be one.
    PostgreSQL answers ``id = 'abc'`` with an error, so garbage ids must stop here (a 4xx, not a 500)."""
    import peewee as pw
    if isinstance(model._meta.primary_key, pw.IntegerField):  # AutoField and friends
        from . import inputs
        try:
            return inputs.parse_int(value, default=None)  # NS2: normalised, at most 64 bits
        except inputs.InputError:
            return None
    if isinstance(model._meta.primary_key, pw.DateField):  # e.g. the working-day calendar's day
        from . import inputs
        try:
            return inputs.parse_date(value, default=None)
        except inputs.InputError:
            return None
    return value


class ModelConverter(_PeeweeModelConverter):
    """Number columns get the bounds of their storage: 64-bit for BigIntegerField, the declared digits for
    DecimalField (``AdminForm`` binds the rest: 32-bit integers, finite floats)."""

    def convert(self, model, field, field_args):
        import peewee as pw
        from . import inputs
        info = super().convert(model, field, field_args)
        if info is None or getattr(info, "field", None) is None:
            return info
        number = (pw.IntegerField, pw.FloatField, pw.DecimalField)
        if not isinstance(field, number) or isinstance(field, (pw.AutoField, pw.ForeignKeyField,
                                                               pw.TimestampField, pw.IPField)):
            return info
        bounds = {}
        if isinstance(field, pw.BigIntegerField):
            bounds = {"min": inputs.INT64[0], "max": inputs.INT64[1]}
        elif isinstance(field, pw.DecimalField) and field.max_digits:
            top = 10 ** (field.max_digits - (field.decimal_places or 0))
            bounds = {"min": -top + 1, "max": top - 1}
        unbound = inputs.bounded_field(info.field, **bounds)
        if not field.null and unbound is not info.field:  # NOT NULL left empty: "required", not an integrity error
            from wtforms import validators as V
            unbound.kwargs["validators"] = [V.InputRequired() if isinstance(v, V.Optional) else v
                                            for v in unbound.kwargs.get("validators") or []]
        return info._replace(field=unbound)


class ScopedAjaxLoader(QueryAjaxModelLoader):
    def __init__(self, name, model, permission, **options):
        super().__init__(name, model, **options)
        self.permission = permission

    def get_one(self, pk):
        pk = pk_value(self.model, pk)
        if pk is None:
            return None
        q = security.scoped(self.model, self.model.select(), self.permission)
        return q.where(getattr(self.model, self.pk) == pk).first()

    def get_list(self, term, offset=0, limit=10):
        from . import inputs
        offset = min(max(0, offset or 0), inputs.MAX_PAGE)   # ?offset=99999999999999999999 (NS2)
        limit = min(max(1, limit or 10), 100)
        q = security.scoped(self.model, self.model.select(), self.permission)
        if term:
            stmt = None
            for f in self._cached_fields:
                c = f ** f"%{term}%"
                stmt = c if stmt is None else (stmt | c)
            q = q.where(stmt)
        return list(q.offset(offset or 0).limit(limit))


def _transactional(fn):
    """``fn`` (a view's create/update/delete_model) run through ``SecureModelView._in_transaction``."""
    @functools.wraps(fn)
    def wrapper(self, *args):
        call = functools.partial(fn, self)
        call.__name__ = fn.__name__
        return self._in_transaction(call, *args, check_scope=False)
    wrapper._tb_wrapped = True
    return wrapper


class SecureModelView(ModelView):
    """Base admin view: subclass it, set ``permission`` (e.g. ``"volunteers.volunteer"``)."""

    permission: str = ""
    allow_create = True
    allow_edit = True
    allow_delete = True
    allow_export = True
    column_sensitive: list[str] = []     # masked on screen, left out of exports by default
    column_masks: dict = {}              # column -> function(value) -> masked text
    details_template = "admin/tb_details.html"  # "Show full" buttons call ``reveal``
    form_base_class = AdminForm
    model_form_converter = ModelConverter
    filter_converter = FilterConverter()
    column_type_formatters = _type_formatters(_typefmt.BASE_FORMATTERS)
    column_type_formatters_export = _type_formatters(_typefmt.EXPORT_FORMATTERS)
    column_type_formatters_detail = _type_formatters(_typefmt.DETAIL_FORMATTERS)  # 是/否 on details too
    export_types = ["csv", "xlsx"]
    page_size = 50
    can_view_details = True
    can_set_page_size = True
    audit_changes = True

    def __init__(self, model, *args, **kwargs):
        if not self.permission:
            self.permission = model._meta.table_name.replace("_", ".", 1)
        if self.column_sensitive:
            fmts = dict(self.column_formatters or {})
            for col in self.column_sensitive:
                fmts.setdefault(col, functools.partial(self._masked_formatter, col))
            self.column_formatters = fmts
            self.column_export_exclude_list = list(
                dict.fromkeys(list(self.column_export_exclude_list or []) + self.column_sensitive))
            if self.column_list is None:  # a scaffolded list leaves them out; list one to show it masked
                self.column_exclude_list = list(
                    dict.fromkeys(list(self.column_exclude_list or []) + self.column_sensitive))
        super().__init__(model, *args, **kwargs)

    def scaffold_form(self):
        """``column_labels`` label the create and edit forms too (an explicit ``form_args`` label wins):
        without this the peewee forms show the field names in English ("Decided By", "Starts At")."""
        labels = self.column_labels or {}
        if not labels:
            return super().scaffold_form()
        args = {k: dict(v) for k, v in (self.form_args or {}).items()}
        for name, label in labels.items():
            args.setdefault(name, {}).setdefault("label", label)
        saved, self.form_args = self.form_args, args
        try:
            return super().scaffold_form()
        finally:
            self.form_args = saved

    def search_placeholder(self):
        """The search box names what it searches: the labels of ``column_searchable_list`` (Flask-Admin's
        peewee backend answers None, which the list page shows as the word "None"); "搜索" when a
        searched column has no label (issue 12 point 6)."""
        labels = self.column_labels or {}
        names = []
        for col in self.column_searchable_list or ():
            name = col if isinstance(col, str) else getattr(col, "name", None)
            if name not in labels:
                return _("Search")
            names.append(str(labels[name]))
        return ", ".join(names) if names else _("Search")

    # ---------------------------------------------------------------- permissions
    def perm(self, action: str) -> str:
        return f"{self.permission}.{action}"

    def is_accessible(self):
        return current_user.is_authenticated and security.can(self.perm("view"))

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("site.login", next=request.full_path))
        audit.log("access.denied", None, {"permission": self.perm("view"), "path": request.path})
        abort(403)

    @property
    def can_create(self):
        return self.allow_create and security.can(self.perm("create"))

    @property
    def can_edit(self):
        return self.allow_edit and security.can(self.perm("edit"))

    @property
    def can_delete(self):
        return self.allow_delete and security.can(self.perm("delete"))

    @property
    def can_export(self):
        return self.allow_export and security.can(self.perm("export"))

    def _handle_view(self, name, **kwargs):
        resp = super()._handle_view(name, **kwargs)
        if resp is not None:
            return resp
        needed = {"create_view": self.can_create, "edit_view": self.can_edit,
                  "delete_view": self.can_delete, "export": self.can_export,
                  "ajax_update": self.can_edit}.get(name, True)
        if not needed:
            audit.log("access.denied", None, {"view": name, "path": request.path})
            abort(403)
        # A row outside the user's scope (or no row at all) is a 404 for every view that takes an
        # id, instead of Flask-Admin's redirect/500, so a probe learns nothing and is audited (AC6).
        where = self._ID_ARGS.get(name)
        if where is not None:
            pk = getattr(request, where[0]).get(where[1])
            if pk is not None and self.get_one(pk) is None:
                audit.log("access.denied", (self.model._meta.table_name, str(pk)[:64]),
                          {"view": name, "path": request.path})
                abort(404)
        return None

    def _get_list_extra_args(self):
        # Flask-Admin reads ?page= with type=int: a page past 2**63 became an offset the database
        # cannot hold (a 500). Bounded like every number from outside (NS2).
        from . import inputs
        args = super()._get_list_extra_args()
        args.page = inputs.arg_int("page", 0, min=0, max=inputs.MAX_PAGE)
        return args

    def _get_column_by_idx(self, idx):
        # ?sort=<n> naming a column that cannot be sorted (a computed one) is ignored: Flask-Admin
        # looks it up in _sortable_columns unguarded, a KeyError, i.e. a 500 for a crafted URL
        col = super()._get_column_by_idx(idx)
        return col if col is None or col[0] in self._sortable_columns else None

    _ID_ARGS = {"details_view": ("args", "id"), "edit_view": ("args", "id"),
                "delete_view": ("form", "id"), "ajax_update": ("form", "list_form_pk")}

    # ---------------------------------------------------------------- row scoping
    def get_query(self):
        return security.scoped(self.model, self.model.select(), self.perm("view"))

    def get_one(self, id):
        pk = getattr(self.model, self._primary_key)
        id = pk_value(self.model, id)
        if id is None:
            return None
        try:
            return self.get_query().where(pk == id).first()
        except (ValueError, TypeError):
            return None

    def scoped_ids(self, ids):
        """Keep only the ids the current user may reach (used by every bulk action)."""
        pk = getattr(self.model, self._primary_key)
        ids = [v for v in (pk_value(self.model, i) for i in ids) if v is not None]
        if not ids:
            return []
        return [getattr(m, self._primary_key) for m in self.get_query().where(pk << ids)]

    def init_actions(self):
        super().init_actions()
        for name, (fn, text, desc) in list(self._actions_data.items()):
            def scoped_action(ids, _fn=fn, _name=name):
                allowed = self.scoped_ids(ids)
                if len(allowed) != len(set(ids)):
                    audit.log("access.denied", None, {"action": _name, "path": request.path})
                return _fn(allowed)
            self._actions_data[name] = (scoped_action, text, desc)

    def is_action_allowed(self, name):
        if name == "delete" and not self.can_delete:
            return False
        return super().is_action_allowed(name)

    def _create_ajax_loader(self, name, options):
        remote = getattr(self.model, name).rel_model
        return ScopedAjaxLoader(name, remote, self.perm("edit"), **options)

    def _scope_pickers(self, form):
        for field in form:
            q = getattr(field, "query", None)
            model = getattr(q, "model", None)
            if q is not None and model is not None:
                field.query = security.scoped(model, q, self.perm("edit"))
                if hasattr(field, "get_model"):  # wtf-peewee select: a garbage id is "not a choice"
                    field.get_model = functools.partial(self._picker_get, field.get_model, model)
        return form

    @staticmethod
    def _picker_get(get_model, model, pk):
        pk = pk_value(model, pk)
        return None if pk is None else get_model(pk)

    def create_form(self, obj=None):
        return self._scope_pickers(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._hide_sensitive(self._scope_pickers(super().edit_form(obj)), obj)

    def _hide_sensitive(self, form, obj):
        """PR5/AC9: the edit form never carries a sensitive value, whoever opens it: its text input is
        sent empty with the masked value as placeholder, and left empty it keeps the stored value (see
        validate_form). A user holding '<permission>.sensitive' sees the full value through the audited
        "Show full" of the details page (``reveal``), never silently in a form. Other field types are left
        to the view."""
        from wtforms import StringField
        if obj is None or not self.column_sensitive:
            return form
        from flask_admin.helpers import is_form_submitted
        hidden = []
        for col in self.column_sensitive:
            field = form._fields.get(col)
            if not isinstance(field, StringField):
                continue
            hidden.append(col)
            value = getattr(obj, col, None)
            if value not in (None, ""):
                pm = current_app.extensions["timebank"].pm
                masked = pm.hook.mask_value(model=self.model, field=col, value=value, user=current_user)
                field.render_kw = dict(field.render_kw or {},
                                       placeholder=masked if masked is not None else default_mask(value))
            if not is_form_submitted():
                field.data = ""
        form._tb_sensitive_hidden = hidden
        return form

    def validate_form(self, form):
        ok = super().validate_form(form)
        if ok:
            for col in getattr(form, "_tb_sensitive_hidden", ()):
                if col in form._fields and form[col].data in (None, ""):  # a view may drop fields later
                    form[col].data = form[col].object_data  # untouched: keep the stored value
        return ok

    def list_form(self, obj=None):
        # inline edits (column_editable_list): the x-editable choices and the accepted values
        return self._scope_pickers(super().list_form(obj))

    # ---------------------------------------------------------------- object checks + audit
    def on_model_change(self, form, model, is_created):
        action = "create" if is_created else "edit"
        if not security.can(self.perm(action), model):
            raise ValidationError(_("You may not save this record."))

    def after_model_change(self, form, model, is_created):
        if self.audit_changes:
            names = [f.name for f in form if f.name != "csrf_token"]
            if not is_created:
                names = [n for n in names if form[n].object_data != form[n].data]
            audit.log("record.created" if is_created else "record.updated", model,
                      {"fields": sorted(names)})

    # ---------------------------------------------------------------- service errors on the form
    field_error_map: dict = {}   # a service's field name -> this form's field, e.g. {"reason": "time_note"}

    def put_field_errors(self, form, error: FieldErrors) -> None:
        """Each message of ``error`` beside its field of ``form`` (inside the field's form-group, where
        Flask-Admin shows its own validation errors); a message for no field of the form (``__all__``, a
        field the form leaves out) is flashed at the top. Messages are translated when shown."""
        fields = getattr(form, "_fields", {}) if form is not None else {}
        if "list_form_pk" in fields:  # an inline edit: Flask-Admin answers with the flashed messages
            fields = {}
        for key, message in error.errors.items():
            name = self.field_error_map.get(key, key)
            field = fields.get(name) if name != "csrf_token" else None
            if field is None:
                flash(str(message), "error")
            else:
                field.errors = list(field.errors or ()) + [str(message)]

    def _in_transaction(self, fn, *args, check_scope=True):
        """Run a create/update/delete in one transaction and roll it back when the saved row would
        leave the user's scope (a team admin cannot move a record to another team), or when a service or
        ``on_model_change`` raises ``core.errors.FieldErrors``: then nothing is written and each message
        is shown beside its field (issue 12 point 2). A view's ``create_model``/``update_model`` simply
        calls its service and lets ``FieldErrors`` through; no view catches it or overrides
        ``validate_form`` for it."""
        from flask import g
        from .db import transaction

        class _Undo(Exception):
            pass
        result = None
        deleting = getattr(fn, "__name__", "") == "delete_model"
        form = None if deleting else args[0]
        saved_form = g.get("_tb_admin_form")
        g._tb_admin_form = form  # for handle_view_exception: Flask-Admin catches on_model_change's errors
        try:
            with transaction():
                result = fn(*args)
                if result and check_scope and not deleting:
                    row = result if result is not True else args[-1]
                    if self.get_one(getattr(row, self._primary_key)) is None:
                        raise _Undo()
                if not result:
                    raise _Undo()
                return result
        except _Undo:
            if result:
                flash(_("You may not save this record."), "error")
            return False
        except FieldErrors as e:
            self.put_field_errors(form, e)
            return False
        finally:
            g._tb_admin_form = saved_form

    def __init_subclass__(cls, **kwargs):
        """A view's own ``create_model``/``update_model``/``delete_model`` (one that saves through its
        plugin's service) runs in the same transaction with the same ``FieldErrors`` handling as the
        default ones: the view just calls the service (issue 12 point 2)."""
        super().__init_subclass__(**kwargs)
        for name in ("create_model", "update_model", "delete_model"):
            fn = getattr(cls, name)  # the class's own, or a mixin's placed before SecureModelView
            if not getattr(fn, "_tb_wrapped", False):
                setattr(cls, name, _transactional(fn))

    def create_model(self, form):
        return self._in_transaction(super().create_model, form)

    def update_model(self, form, model):
        return self._in_transaction(super().update_model, form, model)

    def delete_model(self, model):
        return self._in_transaction(super().delete_model, model)

    create_model._tb_wrapped = update_model._tb_wrapped = delete_model._tb_wrapped = True

    def on_model_delete(self, model):
        if not security.can(self.perm("delete"), model):
            raise ValidationError(_("You may not delete this record."))
        if self.audit_changes:
            audit.log("record.deleted", model)

    def handle_view_exception(self, exc):
        if isinstance(exc, FieldErrors):  # raised in on_model_change/on_model_delete: see _in_transaction
            from flask import g
            self.put_field_errors(g.get("_tb_admin_form"), exc)
            return True
        if isinstance(exc, ValidationError):
            flash(str(exc), "error")
            return True
        if super().handle_view_exception(exc):  # re-raises in debug / ADMIN_RAISE_ON_VIEW_EXCEPTION
            return True
        # AU3: Flask-Admin would flash str(exc) - database errors with table and column names;
        # the details go to the log, the user gets the generic message
        current_app.logger.exception("admin view %s failed", self.endpoint)
        flash(_("Something went wrong"), "error")
        return True

    # ---------------------------------------------------------------- masking and export
    def mask(self, col, value) -> str:
        """The masked form of a sensitive value: ``column_masks[col]``, else a plugin's ``mask_value``
        hook, else ``default_mask``."""
        fn = self.column_masks.get(col)
        if fn is not None:
            return fn(value)
        pm = current_app.extensions["timebank"].pm
        masked = pm.hook.mask_value(model=self.model, field=col, value=value, user=current_user)
        return masked if masked is not None else default_mask(value)

    def _masked_formatter(self, col, view, context, model, name):
        """Sensitive values are always shown masked (PR5); users holding ``<permission>.sensitive`` on the
        row get a "Show full" button that asks ``reveal`` — so every full view is one audited request."""
        value = getattr(model, col)
        if value in (None, ""):
            return ""
        masked = self.mask(col, value)
        if security.can(self.perm("sensitive"), model):
            url = url_for(".reveal", id=self.get_pk_value(model), field=col)
            return Markup('{} <button type="button" class="btn btn-link btn-sm p-0 tb-reveal" '
                          'data-url="{}">{}</button>').format(masked, url, _("Show full"))
        return masked

    def reveal_value(self, obj, field: str) -> str:
        """The full value of one sensitive field, audited as ``pii.viewed``. Views may override it to go
        through their plugin's service."""
        audit.log("pii.viewed", obj, {"field": field})
        return getattr(obj, field)

    @expose("/reveal/", methods=["POST"])
    def reveal(self):
        """Full value of one sensitive field (POST with CSRF): scope and ``.sensitive`` permission checked
        on the row; an unknown or out-of-scope id is a 404 that is audited (AC6)."""
        field = request.args.get("field", "")
        raw_id = request.args.get("id", "")
        obj = self.get_one(raw_id) if field in self.column_sensitive else None
        if obj is None:
            audit.log("access.denied", (self.model._meta.table_name, raw_id[:64]),
                      {"view": "reveal", "field": field[:32], "path": request.path})
            abort(404)
        security.require(self.perm("sensitive"), obj)
        resp = jsonify({"field": field, "value": self.reveal_value(obj, field)})
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @expose("/ajax/update/", methods=("POST",))
    def ajax_update(self):
        # Flask-Admin answers a refused inline edit (invalid value, out-of-scope choice) with 500;
        # it is the client's fault, so say 400 and keep 500 for real failures in the logs.
        resp = super().ajax_update()
        if isinstance(resp, tuple) and len(resp) == 2 and resp[1] == 500:
            return resp[0], 400
        return resp

    def get_export_value(self, model, name):
        """One exported cell, escaped (IV8): a relation column (a model shown through its ``__str__``), a
        formatter's text and a plain value all go through ``core.exports.cell``."""
        return exports.cell(super().get_export_value(model, name), keep_dates=False)

    def export_rows(self):
        """The export as rows of escaped cells, headings first: the one place every CSV and XLSX export
        of every admin view is produced (NS6). Views change what is exported through Flask-Admin's
        column options and formatters, never by writing cells themselves."""
        _count, data = self._export_data()
        data = list(data)  # read now, inside the request's transaction, even when the CSV streams
        return self._export_rows(data)

    def _export_rows(self, data):
        yield exports.row((str(title) for _c, title in self._export_columns), keep_dates=False)
        names = [c for c, _t in self._export_columns]
        for obj in data:
            yield [self.get_export_value(obj, n) for n in names]

    @expose("/export/<export_type>/")
    def export(self, export_type):
        """CSV (streamed) or XLSX (openpyxl, text cells stored as strings, never formulas) of the list
        as filtered, through ``core.exports`` — instead of Flask-Admin's writers, which turn relation
        columns into unescaped text and leave headers alone. Audited with the exported columns."""
        from flask import Response, stream_with_context
        from werkzeug.utils import secure_filename
        from .web import admin_redirect_target
        return_url = admin_redirect_target() or self.get_url(".index_view")  # a same-site path (NS3)
        if not self.can_export or export_type not in self.export_types or export_type not in ("csv", "xlsx"):
            from flask_admin.babel import gettext as _admin_gettext
            flash(_admin_gettext("Permission denied."), "error")
            return redirect(return_url)
        audit.log("export", (self.model._meta.table_name, ""), {"type": export_type,
                  "columns": [c for c, _ in self._export_columns]})
        disposition = f"attachment;filename={secure_filename(self.get_export_name(export_type))}"
        rows = self.export_rows()
        if export_type == "csv":
            class _Echo:
                def write(self, value):
                    return value
            writer = exports.csv_writer(_Echo())
            body = stream_with_context(writer.writerow(r) for r in rows)
            return Response(body, headers={"Content-Disposition": disposition}, mimetype="text/csv")
        head = next(rows)
        data = exports.xlsx_bytes(head, rows, sheet_title=str(self.name or "Sheet1"))
        return Response(data, headers={"Content-Disposition": disposition},
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


class ReadOnlyModelView(SecureModelView):
    allow_create = False
    allow_edit = False
    allow_delete = False
    column_display_actions = True
    can_view_details = True
    audit_changes = False
    column_editable_list: list = []


# ---------------------------------------------------------------- kernel views
class UserView(SecureModelView):
    permission = "core.users"
    column_list = ["username", "display_name", "email", "is_active", "last_login_at", "created_at"]
    column_searchable_list = ["username", "display_name", "email"]
    column_filters = ["is_active"]
    column_exclude_list = ["password_hash"]
    form_columns = ["username", "display_name", "email", "locale", "is_active"]
    column_details_exclude_list = ["password_hash"]
    column_export_exclude_list = ["password_hash"]
    column_labels = {"username": _l("Username"), "display_name": _l("Name"), "email": _l("Email"),
                     "is_active": _l("Active"), "last_login_at": _l("Last login"),
                     "created_at": _l("Created"), "locale": _l("Language"),
                     "must_change_password": _l("Must change password"),
                     "password_changed_at": _l("Password changed at")}

    def perm(self, action):
        return "core.users.manage"

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if is_created or form.username.object_data != model.username:
            # the same rules as every other place a name is chosen (NS1): reserved shapes, taken names
            from .models import User
            try:
                model.username = security.clean_username(model.username)
            except security.UsernameError as e:
                raise ValidationError(str(e.errors["username"])) from None
            if User.select().where((User.username == model.username) &
                                   (User.id != (model.id or 0))).exists():
                raise ValidationError(str(security.USERNAME_TAKEN))
        if is_created:
            import secrets
            model.password_hash = security.hash_password(secrets.token_urlsafe(24))
            model.must_change_password = True
        elif not model.is_active:
            from .models import LoginSession
            from .db import now
            LoginSession.update(revoked_at=now()).where(
                (LoginSession.user == model.id) & LoginSession.revoked_at.is_null()).execute()


def audit_actor(username: str) -> str:
    """The audit log's actor as a person reads it: the kernel's "system" (no user) is 系统."""
    return _("System") if username == "system" else username


def _role_title(view, context, model, name):
    role = security.registry().roles.get(model.role)
    return str(role.title) if role is not None and role.title else model.role


def _plugin_title(view, context, model, name):
    info = current_app.extensions["timebank"].plugins.get(model.category)
    return _(info.title) if info is not None and info.title else model.category


class UserRoleView(SecureModelView):
    permission = "core.users"
    column_list = ["user", "role", "scope"]
    column_formatters = {"role": _role_title}
    form_columns = ["user", "role", "scope"]
    column_labels = {"user": _l("User"), "role": _l("Role"), "scope": _l("Scope")}

    def perm(self, action):
        return "core.users.manage"

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if model.role not in security.registry().roles:
            raise ValidationError(_("Unknown role %(role)s.", role=model.role))


class AuditLogView(ReadOnlyModelView):
    permission = "core.audit"
    column_list = ["at", "username", "action", "object_type", "object_id", "ip"]
    column_searchable_list = ["username", "action", "object_type", "object_id"]
    column_filters = ["action", "object_type", "username"]
    column_default_sort = ("at", True)
    simple_list_pager = True
    column_formatters = {"username": lambda v, c, m, n: audit_actor(m.username)}
    column_labels = {"at": _l("Time"), "username": _l("User"), "action": _l("Action"),
                     "object_type": _l("Object type"), "object_id": _l("Object"), "ip": _l("Address"),
                     "details": _l("Details"), "user_id": _l("User")}

    def perm(self, action):
        return "core.audit.view"


class MessageView(ReadOnlyModelView):
    permission = "core.messages"
    column_list = ["created_at", "recipient", "subject", "category", "read_at", "email_status"]
    column_searchable_list = ["subject"]
    column_default_sort = ("created_at", True)
    column_labels = {"created_at": _l("Time"), "recipient": _l("Recipient"), "subject": _l("Subject"),
                     "category": _l("Category"), "read_at": _l("Read"), "email_status": _l("Email"),
                     "body": _l("Content"), "channel_log": _l("Delivery log"), "dedupe_key": _l("Duplicate key")}
    column_formatters = {"category": _plugin_title}  # a message's category is the plugin that sent it

    def perm(self, action):
        return "core.messages.send"


class CalendarRangeForm(AdminForm):
    start = DateField(_l("From"), validators=[DataRequired()])
    end = DateField(_l("To (optional)"), validators=[Optional()])
    kind = SelectField(_l("These days are"), choices=[("off", _l("Days off (holiday)")),
                                                      ("work", _l("Working days (调休 workday)"))])
    note = StringField(_l("Note"), validators=[Length(max=100)])


class CalendarDayView(SecureModelView):
    """工作日历: the site's own holidays and 调休 workdays over the ``chinese_calendar`` library's, which
    knows only the years up to its release (core/workdays.py). A row always wins over the library."""
    permission = "core.calendar"
    list_template = "admin/tb_calendar_list.html"
    column_list = ["day", "is_workday", "note"]
    column_default_sort = ("day", False)
    column_filters = ["day", "is_workday"]
    form_columns = ["day", "is_workday", "note"]
    column_labels = {"day": _l("Date"), "is_workday": _l("Working day"), "note": _l("Note")}
    column_descriptions = {"is_workday": _l("Ticked: a working day (also a 调休 Saturday or Sunday). "
                                            "Not ticked: a day off (a public holiday).")}
    can_view_details = False

    def perm(self, action):
        return "core.calendar.manage"

    def render(self, template, **kwargs):
        if template == self.list_template:
            from .db import today
            from . import workdays
            kwargs.setdefault("range_form", CalendarRangeForm())
            kwargs["calendar_gaps"] = workdays.coverage_gaps(today(), current_app.config["CALENDAR_WARN_DAYS"])
            kwargs["warn_days"] = current_app.config["CALENDAR_WARN_DAYS"]
        return super().render(template, **kwargs)

    @expose("/range", methods=["POST"])
    def set_range(self):
        """Enter a whole holiday (e.g. 2027-02-06 to 02-12 off) or a 调休 workday in one step."""
        from . import workdays
        form = CalendarRangeForm()
        if not form.validate_on_submit():
            for field, errors in form.errors.items():
                label = form[field].label.text if field in form._fields else field
                for err in errors:
                    flash(f"{label}: {err}", "error")
            return redirect(url_for(".index_view"))
        start, end = form.start.data, form.end.data or form.start.data
        if end < start:
            flash(_("The end date is before the start date. Nothing was changed."), "error")
            return redirect(url_for(".index_view"))
        if (end - start).days > 366:
            flash(_("Enter at most one year at a time. Nothing was changed."), "error")
            return redirect(url_for(".index_view"))
        n = workdays.set_days(start, end, form.kind.data == "work", form.note.data or "")
        audit.log("calendar.days_set", ("core_calendar_day", start.isoformat()),
                  {"start": start.isoformat(), "end": end.isoformat(), "workday": form.kind.data == "work",
                   "days": n})
        flash(_("%(n)d day(s) recorded.", n=n), "success")
        return redirect(url_for(".index_view"))


class DashboardView(AdminIndexView):
    def is_accessible(self):
        return current_user.is_authenticated and security.can("core.admin.access")

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("site.login", next=request.full_path))
        abort(403)

    @expose("/")
    def index(self):
        pm = current_app.extensions["timebank"].pm
        widgets = [w for group in pm.hook.dashboard_widgets(user=current_user._get_current_object())
                   for w in (group or [])]
        widgets.sort(key=lambda w: w.order)
        return self.render("admin/tb_dashboard.html", widgets=widgets)


class PermissionView(BaseView):
    """A custom admin page (not a model list) behind one permission: set ``permission``. Visitors go to
    the login page; a logged-in user without it gets 403, audited as ``access.denied`` (AC7)."""
    permission: str = ""

    def is_accessible(self):
        return current_user.is_authenticated and security.can(self.permission)

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("site.login", next=request.full_path))
        audit.log("access.denied", None, {"permission": self.permission, "path": request.path})
        abort(403)


class PluginsView(PermissionView):
    """插件管理: every plugin with its state; enable and disable for platform admins."""
    permission = "core.plugins.manage"

    @expose("/")
    def index(self):
        from . import plugins as P
        available, problems = P.discover()
        enabled = set(P.enabled_names())
        loaded = set(current_app.extensions["timebank"].loaded)
        rows = []
        for name, info in sorted(available.items()):
            rows.append({"info": info, "enabled": name in enabled, "loaded": name in loaded,
                         "pending": (name in enabled) != (name in loaded)})
        return self.render("admin/tb_plugins.html", rows=rows, problems=problems)

    # the URL argument must not be called "name": Flask-Admin passes URL arguments on to
    # _handle_view(name, **kwargs), which then fails with a TypeError (a 500 for everyone)
    @expose("/<plugin>/<op>", methods=["POST"])
    def change(self, plugin, op):
        name = plugin
        from . import plugins as P
        from .events import PluginDisabled, PluginEnabled, emit
        try:
            if op == "enable":
                done = P.enable([name])
                for n in done:
                    audit.log("plugin.enabled", ("plugin", n))
                    emit(PluginEnabled(plugin=n))
                flash(_("Enabled: %(names)s. The site reloads its plugins within seconds.",
                        names=", ".join(done) or name), "success")
            elif op == "disable":
                P.disable(name)
                audit.log("plugin.disabled", ("plugin", name))
                emit(PluginDisabled(plugin=name))
                flash(_("Disabled: %(name)s. Its data is kept.", name=name), "success")
            else:
                abort(404)
        except P.PluginError as e:
            flash(_("Nothing was changed: %(error)s", error=str(e)), "error")
        return redirect(url_for(".index"))


def _install_safe_redirects():
    """Flask-Admin reads its return ``url`` through ``get_redirect_target``, imported into the two
    modules that use it: both get the kernel's one safe-redirect check (SECURITY.md NS3)."""
    import flask_admin.actions
    import flask_admin.model.base
    from .web import admin_redirect_target
    for module in (flask_admin.model.base, flask_admin.actions):
        if getattr(module, "get_redirect_target", None) is not admin_redirect_target:
            module.get_redirect_target = admin_redirect_target


def build_admin(app, pm):
    from flask_admin import Admin
    from flask_admin.theme import Bootstrap4Theme
    from .models import AuditLog, Message, User, UserRole
    from .workdays import CalendarDay

    _install_safe_redirects()

    from .web import csp_nonce
    admin = Admin(app, name=_l("Time Bank"), url="/admin", csp_nonce_generator=csp_nonce,
                  translations_path=app.config.get("ADMIN_TRANSLATIONS_PATH"),  # core/i18n.py
                  theme=Bootstrap4Theme(base_template="admin/tb_base.html", swatch="default"),
                  index_view=DashboardView(name=_l("Dashboard"), url="/admin"))
    admin.add_view(PluginsView(name=_l("Plugins"), endpoint="plugins", category=_l("System")))
    from .settings_admin import SettingsView
    admin.add_view(SettingsView(name=_l("Settings"), endpoint="settings", url="/admin/settings",
                                category=_l("System")))
    admin.add_view(UserView(User, name=_l("Users"), endpoint="core_user", category=_l("System")))
    admin.add_view(UserRoleView(UserRole, name=_l("Role assignments"), endpoint="core_user_role",
                                category=_l("System")))
    admin.add_view(AuditLogView(AuditLog, name=_l("Audit log"), endpoint="core_audit_log",
                                category=_l("System")))
    admin.add_view(MessageView(Message, name=_l("Messages"), endpoint="core_message",
                               category=_l("System")))
    admin.add_view(CalendarDayView(CalendarDay, name=_l("Working-day calendar"), endpoint="core_calendar_day",
                                   category=_l("System")))
    for group in pm.hook.register_admin_views(admin=admin):
        for view in group or []:
            admin.add_view(view)
    app.jinja_env.globals["list_url"] = list_url   # templates link to filtered lists the same way
    return admin


class RowFilter(_BasePeeweeFilter):
    """"Equals" on a foreign key, by the related row's id, for ``column_filters`` (peewee's filters have
    none for a ForeignKeyField): ``column_filters = ["status", RowFilter(SignUp.activity, _l("Activity"))]``,
    linked with ``list_url(endpoint, activity=id)``. The id goes through ``pk_value`` (NS2): a value that
    cannot be an id is an ignored filter, never a database error."""

    def __init__(self, column, name, options=None):
        super().__init__(column, name, options=options)

    def apply(self, query, value):
        return query.where(self.column == value)

    def validate(self, value):
        return self.clean(value) is not None

    def clean(self, value):
        return pk_value(self.column.rel_model, value)

    def operation(self):
        return _l("equals")


def _operation(flt) -> str:
    """A filter's operation as its English msgid in URL form: "equals", "not_equal", "greater_than"."""
    op = flt.operation()
    op = getattr(op, "_args", (op,))[0]
    return "_".join(str(op).lower().split())


def list_url(endpoint: str, **filters) -> str:
    """The URL of an admin list filtered by column name, without Flask-Admin's positional ``flt0_3``
    arguments (which change whenever a view's ``column_filters`` do):

        list_url("teams_team", status="pending")              # a bare column: its "equals" filter
        list_url("activities_activity", starts_at__greater_than="2026-05-01")

    A key is a column of the view's ``column_filters`` (its field name; its "equals" filter, or its
    first when it has none), optionally ``__`` and the operation ("equals", "not_equal", "greater_than", "smaller_than", "contains", "empty", …). A column
    or operation the view cannot filter raises ``ValueError`` naming the ones it can.
    """
    from flask import url_for
    view = next((v for admin in current_app.extensions.get("admin", [])
                 for v in admin._views if v.endpoint == endpoint), None)
    if view is None:
        raise ValueError(f"no admin view with endpoint {endpoint!r}")
    known = {}
    for index, flt in enumerate(view._filters or []):
        column = getattr(getattr(flt, "column", None), "name", None)
        if column:
            op = _operation(flt)
            known.setdefault(f"{column}__{op}", index)
            if op == "equals" or column not in known:              # a bare column: "equals" if it has one
                known[column] = index
    args = {}
    for pos, (key, value) in enumerate(filters.items()):
        if key not in known:
            raise ValueError(f"admin view {endpoint!r} has no filter {key!r}; it has: "
                             + ", ".join(sorted(known)))
        index = known[key]
        args[f"flt{pos}_{view.get_filter_arg(index, view._filters[index])}"] = value
    return url_for(f"{endpoint}.index_view", **args)


__all__ = ["SecureModelView", "ReadOnlyModelView", "PermissionView", "AdminForm", "escape_formula", "default_mask",
           "Markup", "build_admin", "list_url", "RowFilter"]
