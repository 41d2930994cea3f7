"""Public pages: find activities (R-ACT-3), sign up (R-ACT-4), my sign-ups, check in and out by
scanning the organiser's code (R-ACT-7), the organiser's code screen and the organiser's page to scan a
volunteer's personal code (R-ACT-7), the feedback form (附录四 套表2)."""
from __future__ import annotations

import datetime as _dt
import io
import json

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_babel import get_locale, gettext as _
from markupsafe import Markup
from flask_login import current_user, login_required

from core import inputs, security
from core.web import csp_allow, kept, kept_html, public_url_for, url_maker
from core.db import TZ, compiled, now, transaction
from plugins.volunteers import services as volunteers
from plugins.volunteers.models import DISTRICTS

from . import maps, services
from .models import Activity, Feedback, Photo, Shift, SignUp

bp = Blueprint("activities", __name__, url_prefix="/activities", template_folder="templates",
               static_folder="static")

FEEDBACK_ITEMS = [
    ("venue", "场地设备方面"), ("fit", "内容切合需要"), ("rich", "内容充实"), ("inspiring", "内容有启发性"),
    ("method", "手法有效"), ("mastery", "对内容的掌握程度"), ("preparation", "准备工作"),
    ("learning", "促进学习方面"), ("expression", "表达能力方面"), ("theme", "让我对活动主题的认识方面"),
    ("knowledge", "增强我相关知识/能力方面"), ("future", "帮助我日后学习/生活/工作方面"),
]


def _date(name):
    d = inputs.arg_date(name, min=_dt.date(inputs.MIN_YEAR, 1, 1), max=_dt.date(inputs.MAX_YEAR, 12, 31))  # NS2
    return _dt.datetime.combine(d, _dt.time(0), tzinfo=TZ) if d else None


@bp.route("/")
def index():
    kind = "training" if request.args.get("kind") == "training" else "service"
    sort = request.args.get("sort", "soonest")
    if sort not in services.SORTS:
        sort = "soonest"
    page = inputs.arg_int("page", 1, min=1, max=inputs.MAX_PAGE)
    date_to = _date("to")
    rows = services.listing(
        kind=kind, district=request.args.get("district") or None, field=request.args.get("field") or None,
        category=request.args.get("category") or None, keyword=(request.args.get("q") or "").strip() or None,
        date_from=_date("from"),
        date_to=date_to + _dt.timedelta(days=1) if date_to else None, sort=sort,
        lat=inputs.arg_float("lat", min=-90, max=90), lng=inputs.arg_float("lng", min=-180, max=180),
        page=page)
    cat_kind = "training" if kind == "training" else "category"
    cats = services.categories_of("field", cat_kind)
    # what each row shows, prepared here: a template's per-row calls (url_for, strftime, format) cost
    # more than the query (bench/profile_activities.py)
    link = url_maker(".detail", "activity_id")
    places_left = _("%(left)s of %(cap)s places left", left="%(left)s", cap="%(cap)s")
    shown = [(a, link(a.id), f"{a.starts_at.astimezone(TZ):%Y-%m-%d %H:%M}",
              places_left % {"left": a.capacity - a.confirmed, "cap": a.capacity}) for a in rows]
    args = request.args
    filters = filters_form(kind, sort, args, cats["field"] if kind == "service" else [], cats[cat_kind])
    return render_template("activities/index.html", rows=shown, more=len(rows) == 20, kind=kind,
                           page=page, filters=filters, args=args, map=_service_map(shown))


def _service_map(shown):
    """The service map of this page's rows (R-MAP-1, issue 18 point 9): the markers of the activities
    with coordinates (title, time, link: read by static/map.js, which writes them as text) and the tile
    server of the settings, whose origin this response's CSP allows for images. None when no row has
    coordinates: then there is no map and no settings query."""
    markers = [{"lat": a.latitude, "lng": a.longitude, "title": a.title, "when": when, "url": link}
               for a, link, when, _left in shown if a.latitude is not None and a.longitude is not None]
    if not markers:
        return None
    tiles, attribution = maps.map_settings()
    origin = maps.tile_origin(tiles)
    if origin is None:  # a value stored before it was checked: the markers without map images
        tiles = ""
    else:
        csp_allow("img-src", origin)
    # the JSON block: "<", ">", "&" and "'" as \u escapes, so that no title can end the <script> element
    data = json.dumps(markers, ensure_ascii=False, separators=(",", ":"))
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")
    return {"markers": Markup(data), "tiles": tiles, "attribution": attribution,
            "assets": kept("activities.map_assets", request.script_root, _map_assets)}


def _map_assets():
    return {name: url_for("activities.static", filename=f) for name, f in (
        ("leaflet_css", "vendor/leaflet/leaflet.css"), ("map_css", "map.css"),
        ("leaflet_js", "vendor/leaflet/leaflet.js"), ("map_js", "map.js"))}


_TYPED = ("q", "from", "to", "lat", "lng")  # what the visitor types: put in per request


def filters_form(kind, sort, args, fields, cats) -> Markup:
    """The listing's filter form (activities/_filters.html), rendered once per language, kind, sort,
    chosen district / field / category and the categories offered, and kept (``core.web.kept_html``);
    the typed values fill its holes, escaped, per request. The form's ~40 options were a third of the
    listing's cost (bench/profile_activities.py)."""
    def pick(name, allowed):
        v = args.get(name, "")
        return v if v in allowed else ""
    chosen = {"district": pick("district", DISTRICTS),
              "field": pick("field", {str(f.id) for f in fields}),
              "category": pick("category", {str(c.id) for c in cats})}
    key = (str(get_locale()), kind, sort, chosen["district"], chosen["field"], chosen["category"],
           tuple((f.id, f.name) for f in fields), tuple((c.id, c.name) for c in cats))

    def render(markers):
        return render_template("activities/_filters.html", kind=kind, sort=sort, districts=DISTRICTS,
                               fields=fields, cats=cats, chosen={**chosen, **markers})
    return kept_html("activities.filters", key, render, {k: args.get(k, "") for k in _TYPED})


@bp.route("/<int:activity_id>")
def detail(activity_id):
    a = Activity.get_or_none((Activity.id == activity_id) & Activity.status.in_(["published", "finished",
                                                                                  "closed"]))
    if a is None:
        abort(404)
    mine = {}
    v = volunteers.for_user(current_user) if current_user.is_authenticated else None
    if v is not None:
        mine = {s.shift_id: s for s in SignUp.select().where((SignUp.activity == a) & (SignUp.volunteer == v))}
    shifts = list(Shift.select().where(Shift.activity == a).order_by(Shift.starts_at))
    # the photos' ids and captions only: which file each serves is decided by public_photo (R-PRIV-3)
    from .photos import public_listing
    shown = public_listing(a)
    return render_template("activities/detail.html", a=a, shifts=shifts, mine=mine, now=now(), photos=shown)


@bp.route("/photos/<int:photo_id>")
def public_photo(photo_id):
    """A photo of a public activity as the public may see it (R-PRIV-3, issue 13 point 5): the stored copy
    with the faces blurred when the photo shows service recipients who have not all consented, else the
    original. Nothing is blurred here (that happened at upload); not cached, so that a withdrawn consent
    counts at the next request."""
    from flask import send_file
    from . import photos as photo_store
    p = (Photo.select(Photo, Activity).join(Activity)
         .where((Photo.id == photo_id) & Activity.status.in_(photo_store.PUBLIC_STATUSES)).first())
    if p is None:
        abort(404)
    path = photo_store.public_file(p)
    if path is None or not path.is_file():
        abort(404)
    resp = send_file(path, mimetype=p.content_type, max_age=0, conditional=True)
    resp.headers["Content-Disposition"] = "inline"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@compiled
def _shift_with_activity(shift_id):
    return Shift.select(Shift, Activity).join(Activity).where(Shift.id == shift_id)


@compiled
def _shift_to_sign_up(shift_id):
    """What a sign-up reads of the slot and its activity (services.sign_up and its messages)."""
    return (Shift.select(Shift.id, Shift.activity, Shift.volunteer_type, Shift.starts_at, Shift.ends_at,
                         Shift.capacity, Activity.id, Activity.status, Activity.auto_confirm, Activity.title,
                         Activity.address, Activity.contact_name, Activity.team, Activity.kind)
            .join(Activity).where(Shift.id == shift_id))


@bp.route("/shifts/<int:shift_id>/signup", methods=["GET", "POST"])
@login_required
def signup(shift_id):
    # the slot with its activity in one query (sign_up and the page both need the activity)
    query = _shift_to_sign_up if request.method == "POST" else _shift_with_activity
    shift = query.first(shift_id=shift_id)
    if shift is None or shift.activity.status != "published":
        abort(404)
    v = volunteers.for_user(current_user, brief=request.method == "POST")
    if v is None:
        flash(_("Only registered volunteers can sign up."), "error")
        return redirect(url_for(".detail", activity_id=shift.activity_id))
    if request.method == "GET":  # the "confirm your choice" step
        return render_template("activities/confirm.html", shift=shift, a=shift.activity, v=v)
    try:
        s = services.sign_up(v, shift)
    except services.ActivityError as e:
        flash("; ".join(str(m) for m in e.errors.values()), "error")
        return redirect(url_for(".detail", activity_id=shift.activity_id))
    flash({"confirmed": _("Signed up: your place is confirmed."),
           "waitlisted": _("The slot is full: you are on the waiting list."),
           "pending": _("Sent: the organiser confirms sign-ups in the order they arrive.")}[s.status],
          "success")
    return redirect(url_for(".mine"))


@bp.route("/mine")
@login_required
def mine():
    v = volunteers.for_user(current_user)
    rows = []
    if v is not None:
        rows = list(SignUp.select(SignUp, Shift, Activity).join(Shift).switch(SignUp).join(Activity)
                    .where(SignUp.volunteer == v).order_by(Shift.starts_at.desc()).limit(200))
    return render_template("activities/mine.html", rows=rows, v=v)


@bp.route("/signups/<int:signup_id>/cancel", methods=["POST"])
@login_required
def cancel(signup_id):
    v = volunteers.for_user(current_user)
    s = SignUp.get_or_none((SignUp.id == signup_id) & (SignUp.volunteer == (v.id if v else -1)))
    if s is None:
        abort(404)
    services.cancel(s, reason=request.form.get("reason", ""), actor=current_user._get_current_object())
    flash(_("Your sign-up was cancelled."), "success")
    return redirect(url_for(".mine"))


@bp.route("/checkin")
@login_required
def checkin():
    """Where the organiser's QR code points: the volunteer's phone opens it after scanning."""
    v = volunteers.for_user(current_user)
    if v is None:
        flash(_("Only registered volunteers can check in."), "error")
        return render_template("activities/checkin_result.html", ok=False), 403
    try:
        s = services.scan_site_code(v, request.args.get("t", ""))
    except services.ActivityError as e:
        return render_template("activities/checkin_result.html", ok=False,
                               error="; ".join(str(m) for m in e.errors.values())), 400
    return render_template("activities/checkin_result.html", ok=True, s=s,
                           minutes=services.minutes_from_times(s), zero_reason=services.zero_hours_reason(s))


@bp.route("/mycode")
@login_required
def mycode():
    """The volunteer's personal code, for the organiser to scan."""
    v = volunteers.for_user(current_user)
    if v is None:
        abort(404)
    token = services.personal_token(v)
    return render_template("activities/mycode.html", svg=qr_svg(token), v=v,
                           seconds=services.setting("checkin_token_seconds"))


def qr_svg(data: str) -> str:
    import qrcode
    import qrcode.image.svg
    img = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    buf = io.BytesIO()
    img.save(buf)
    return buf.getvalue().decode()


@bp.route("/<int:activity_id>/code/<mode>")
@login_required
def code_screen(activity_id, mode):
    """The organiser's screen: a code that changes before it expires (check-in or check-out)."""
    a = Activity.get_or_none(Activity.id == activity_id)
    if a is None or mode not in ("in", "out"):
        abort(404)
    security.require("activities.signup.edit", a)
    # the phone's camera opens this address: the configured public one, never the Host header
    # (SECURITY.md NS3); without PUBLIC_URL the kernel answers with a page saying what to configure
    url = public_url_for("activities.checkin", t=services.site_token(a, mode))
    return render_template("activities/code_screen.html", a=a, mode=mode, svg=qr_svg(url),
                           refresh=max(10, services.setting("checkin_token_seconds") - 20))


def code_from_scan(raw: str) -> str:
    """What a scanner or a camera read: a personal code as it is, or a link that carries a code as
    ``?t=`` (an activity's screen code, scanned by mistake: the service says so)."""
    raw = (raw or "").strip()
    if "?" in raw and ("://" in raw or raw.startswith("/")):
        from urllib.parse import parse_qs, urlsplit
        found = parse_qs(urlsplit(raw).query).get("t")
        if found:
            return found[0].strip()
    return raw[:2000]


@bp.route("/<int:activity_id>/scan", methods=["GET", "POST"])
@login_required
def scan(activity_id):
    """The organiser scans a volunteer's personal code (R-ACT-7): a handheld scanner (or the keyboard)
    types it into the field and Enter submits, or the browser's camera reads it (static/scan.js with the
    vendored jsQR decoder). Only the activity's own organisers (AC6); the POST carries a CSRF token."""
    a = Activity.get_or_none(Activity.id == activity_id)
    if a is None:
        abort(404)
    security.require("activities.signup.edit", a)
    mode = (request.form if request.method == "POST" else request.args).get("mode", "in")
    if mode not in ("in", "out"):
        mode = "in"
    result = error = None
    if request.method == "POST":
        code = code_from_scan(request.form.get("code", ""))
        if not code:
            error = _("Scan or type the volunteer's code.")
        else:
            try:
                result = services.scan_personal_code(a, code, mode, actor=current_user._get_current_object())
            except services.ActivityError as e:
                error = "; ".join(str(m) for m in e.errors.values())
    counts = {"confirmed": SignUp.select().where((SignUp.activity == a) & (SignUp.status == "confirmed")).count(),
              "in": SignUp.select().where((SignUp.activity == a) & (SignUp.status == "confirmed")
                                          & SignUp.check_in_at.is_null(False)).count(),
              "out": SignUp.select().where((SignUp.activity == a) & (SignUp.status == "confirmed")
                                           & SignUp.check_out_at.is_null(False)).count()}
    return render_template("activities/scan.html", a=a, mode=mode, result=result, error=error, counts=counts,
                           local=lambda t: t.astimezone(TZ) if t is not None and t.tzinfo else t), \
        (400 if error else 200)


@bp.route("/<int:activity_id>/feedback", methods=["GET", "POST"])
@login_required
def feedback(activity_id):
    """附录四 套表2: participants rate the activity online."""
    a = Activity.get_or_none(Activity.id == activity_id)
    v = volunteers.for_user(current_user)
    if a is None or v is None or not SignUp.select().where(
            (SignUp.activity == a) & (SignUp.volunteer == v) & (SignUp.status == "confirmed")).exists():
        abort(404)
    existing = Feedback.get_or_none((Feedback.activity == a) & (Feedback.volunteer == v))
    errors = {}
    if request.method == "POST":
        items = {}
        for code, _label in FEEDBACK_ITEMS:
            raw = request.form.get(code, "")
            if raw:
                if raw not in ("1", "2", "3", "4", "5"):
                    errors[code] = _("Choose 1 to 5.")
                else:
                    items[code] = int(raw)
        try:
            overall = inputs.parse_int(request.form.get("overall"), min=0, max=10, default=None)
        except inputs.InputError:
            overall, errors["overall"] = None, _("Give a score from 0 to 10.")
        duration = request.form.get("duration", "")
        design = request.form.get("design", "")
        if duration not in ("", "太长", "适中", "太短"):
            errors["duration"] = _("Choose one of the options.")
        if design not in ("", "很好", "普通", "不好"):
            errors["design"] = _("Choose one of the options.")
        if not errors:
            with transaction():
                fb = existing or Feedback(activity=a, volunteer=v)
                fb.items = json.dumps(items)
                fb.overall = overall
                fb.duration, fb.design = duration, design
                fb.comments = request.form.get("comments", "")[:5000]
                fb.save()
            flash(_("Thank you for your feedback."), "success")
            return redirect(url_for(".mine"))
    return render_template("activities/feedback.html", a=a, items=FEEDBACK_ITEMS, fb=existing,
                           errors=errors, saved=json.loads(existing.items) if existing else {}), \
        (400 if errors else 200)
