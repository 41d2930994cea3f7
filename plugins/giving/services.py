"""The public API of 捐赠与票据 (R-DON-1..3). Every function checks its input first and raises
``FieldErrors`` (field → Chinese message) before anything is written; every state change is audited; the
acting user must reach the team (AC6: ``plugins.teams.scoping.team_allowed``), else ``GivingDenied``.

- ``save_donor(data, user)``                      a person, an organisation or an anonymous donor
- ``record_money(data, user)``                    money: amount (fen, from what was typed), channel, date
- ``record_goods(data, user)``                    goods: waits for ``check_goods``
- ``check_goods(donation, ok, note, user)``       usable and safe → accepted; else refused with the reason
- ``issue_receipt(donation, user, handler)``      the next number of the team's yearly sequence (LG7)
- ``waive_receipt(donation, reason, user)``       the donor does not want a receipt: recorded as such
- ``void_receipt(receipt, reason, user)``         never edited: voided, the number stays used
- ``receipt_pdf(receipt)`` / ``agreement_pdf(donation)``   real PDFs through plugins/documents
"""
from __future__ import annotations

import datetime as _dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import audit, inputs, money, numbering, pii
from core.db import for_update, now, today, transaction
from core.errors import FieldErrors
from core.settings import PluginSettings
from plugins.teams.models import Team

from .models import CHANNELS, DONOR_KINDS, Donation, Donor, Receipt

SETTINGS = PluginSettings(__file__)
RECEIPT_KIND = "giving.receipt"
ANONYMOUS = _l("Anonymous donor")


class GivingDenied(Exception):
    """The user does not reach this team's donations (shown as 403/404 by the views)."""


def _user(user):
    return user if hasattr(user, "username") else None


def _require_team(user, team_id):
    """``user`` None is a trusted internal caller (CLI, tasks); anyone else must reach the team."""
    if user is None:
        return
    from plugins.teams.scoping import team_allowed
    if not team_allowed(user, team_id):
        raise GivingDenied(team_id)


def _text(data, name, errors, *, required=False, max_length=200, message=None):
    value = inputs.normalize(data.get(name) or "").strip()
    if required and not value:
        errors[name] = message or _l("This field is required.")
    elif len(value) > max_length:
        errors[name] = _l("At most %(n)s characters.", n=max_length)
    return value


def _team(data, errors):
    tid = inputs.parse_id(data.get("team_id"))
    team = Team.get_or_none(Team.id == tid) if tid else None
    if team is None:
        errors["team_id"] = _l("Choose the receiving team.")
    return team


def _date(data, name, errors, *, required=True):
    try:
        return inputs.parse_date(data.get(name), field=name, **({} if required else {"default": None}))
    except inputs.InputError as e:
        errors.update(e.errors)
        return None


# ------------------------------------------------------------------------------------------- donors
def save_donor(data: dict, user=None) -> Donor:
    """A new donor. A person needs a name; an organisation its name; an anonymous donor nothing (a name
    given is not kept). Phone (mobile or landline) and ID number are checked and stored encrypted."""
    errors: dict = {}
    kind = data.get("kind") or ""
    if kind not in DONOR_KINDS:
        errors["kind"] = _l("Choose person, organisation or anonymous.")
    team = _team(data, errors)
    name = _text(data, "name", errors, required=kind in ("person", "organisation"),
                 message=_l("Enter the donor's name."))
    address = _text(data, "address", errors, max_length=300)
    phone = inputs.normalize(data.get("phone") or "").strip()
    if phone:
        try:
            phone = pii.validate_contact_phone(phone)
        except pii.PIIError as e:
            errors["phone"] = str(e)
    id_number = inputs.normalize(data.get("id_number") or "").strip().upper()
    if id_number and kind == "person":
        try:
            id_number = pii.validate_cn_id(id_number)
        except pii.PIIError as e:
            errors["id_number"] = str(e)
    elif len(id_number) > 40:
        errors["id_number"] = _l("At most %(n)s characters.", n=40)
    if errors:
        raise FieldErrors(errors)
    _require_team(user, team.id)
    if kind == "anonymous":
        name, phone, id_number, address = "", "", "", ""
    with transaction():
        d = Donor.create(team=team, kind=kind, name=name, phone=phone, id_number=id_number, address=address,
                         disclose_name=bool(data.get("disclose_name")) and kind != "anonymous")
        audit.log("giving.donor.created", d, {"team_id": team.id, "kind": kind}, user=_user(user))
    return d


def masked(donor: Donor) -> dict:
    """What lists and pages show of a donor (PR5): phone and ID number masked."""
    return {"name": str(donor), "phone": pii.mask_phone(donor.phone), "id_number": pii.mask_id(donor.id_number)}


# ---------------------------------------------------------------------------------------- donations
def _donor(data, errors, team):
    did = inputs.parse_id(data.get("donor_id"))
    donor = Donor.get_or_none(Donor.id == did) if did else None
    if donor is None or (team is not None and donor.team_id != team.id):
        errors["donor_id"] = _l("Choose a donor of this team.")
        return None
    return donor


def _common(data, errors, team):
    return {"purpose": _text(data, "purpose", errors, max_length=300),
            "beneficiary": _text(data, "beneficiary", errors),
            "wants_agreement": bool(data.get("wants_agreement"))}


def record_money(data: dict, user=None) -> Donation:
    """A gift of money (R-DON-1): amount as typed (``"1000.00"``, ``"¥1000"`` → fen), channel, date. Accepted at once."""
    errors: dict = {}
    team = _team(data, errors)
    donor = _donor(data, errors, team)
    try:
        amount = money.parse(data.get("amount"), min=1, field="amount")
    except inputs.InputError as e:
        errors.update(e.errors)
        amount = None
    channel = data.get("channel") or ""
    if channel not in CHANNELS:
        errors["channel"] = _l("Choose how the money was given.")
    donated_on = _date(data, "donated_on", errors)
    if donated_on and donated_on > today():
        errors["donated_on"] = _l("The date cannot be in the future.")
    rest = _common(data, errors, team)
    if errors:
        raise FieldErrors(errors)
    _require_team(user, team.id)
    with transaction():
        d = Donation.create(team=team, donor=donor, kind="money", amount=amount, channel=channel,
                            donated_on=donated_on, property_type=_("Money"), status="accepted",
                            created_by=getattr(_user(user), "id", None), **rest)
        audit.log("giving.donation.recorded", d, {"kind": "money", "amount_fen": amount, "team_id": team.id},
                  user=_user(user))
    return d


def record_goods(data: dict, user=None) -> Donation:
    """A gift of goods (R-DON-1): property type, description, quantity and unit, condition, expiry,
    purpose, delivery date. It waits for the safety check (``check_goods``) before it is accepted."""
    errors: dict = {}
    team = _team(data, errors)
    donor = _donor(data, errors, team)
    ptype = _text(data, "property_type", errors, required=True, max_length=100,
                  message=_l("Enter the type of goods (e.g. food, clothing, books)."))
    description = _text(data, "description", errors, required=True, max_length=2000,
                        message=_l("Describe the goods."))
    try:
        quantity = inputs.parse_int(data.get("quantity"), min=1, max=SETTINGS.get("max_goods_quantity"),
                                    field="quantity")
    except inputs.InputError as e:
        errors.update(e.errors)
        quantity = None
    unit = _text(data, "unit", errors, required=True, max_length=20, message=_l("Enter the unit (e.g. boxes)."))
    condition = _text(data, "condition", errors, required=True,
                      message=_l("Describe the quality or condition of the goods."))
    donated_on = _date(data, "donated_on", errors)
    delivery_on = _date(data, "delivery_on", errors, required=False)
    expiry_on = _date(data, "expiry_on", errors, required=False)
    if expiry_on and donated_on and expiry_on <= donated_on:
        errors["expiry_on"] = _l("These goods expire on or before the day they are given.")
    rest = _common(data, errors, team)
    if errors:
        raise FieldErrors(errors)
    _require_team(user, team.id)
    with transaction():
        d = Donation.create(team=team, donor=donor, kind="goods", quantity=quantity, unit=unit,
                            property_type=ptype, description=description, condition=condition,
                            donated_on=donated_on, delivery_on=delivery_on, expiry_on=expiry_on,
                            status="pending_check", created_by=getattr(_user(user), "id", None), **rest)
        audit.log("giving.donation.recorded", d, {"kind": "goods", "quantity": quantity, "team_id": team.id},
                  user=_user(user))
    return d


def check_goods(donation: Donation, ok: bool, note: str, user=None) -> Donation:
    """The receiving staff's check (R-DON-1: 安全、卫生、环保): ``ok`` accepts the goods with what was
    checked (``note`` required); otherwise they are refused and ``note`` is the reason."""
    _require_team(user, donation.team_id)
    note = inputs.normalize(note or "").strip()
    if not note:
        raise FieldErrors({"note": _l("Say what was checked (safety, hygiene, environment).") if ok
                           else _l("Give the reason for refusing the goods.")})
    with transaction():
        d = for_update(Donation.select().where(Donation.id == donation.id)).get()
        if d.kind != "goods" or d.status != "pending_check":
            raise FieldErrors(_l("This donation is not waiting for a check."))
        fields = {"status": "accepted" if ok else "refused", "checked_at": now(),
                  "checked_by": getattr(_user(user), "id", None)}
        fields.update({"check_note": note[:2000]} if ok else {"refuse_reason": note[:2000]})
        Donation.update(**fields).where(Donation.id == d.id).execute()
        audit.log("giving.goods.accepted" if ok else "giving.goods.refused", d, {"note": note[:500]},
                  user=_user(user))
        if ok:                                   # into stock in the same transaction (issue 15 point 4)
            from .stock import receive
            receive(d, user)
    return Donation.get_by_id(donation.id)


# ----------------------------------------------------------------------------------------- receipts
def quantity_text(d: Donation) -> str:
    if d.kind == "money":
        return money.fmt(d.amount, grouping=True)
    return f"{d.quantity} {d.unit}"


def issue_receipt(donation: Donation, user=None, *, handler: str = "") -> Receipt:
    """The receipt of an accepted donation (R-DON-3), numbered from the team's yearly sequence
    (``JZ2026000001``; gap-free, LG7). One valid receipt per donation; after a void a new one may be issued."""
    _require_team(user, donation.team_id)
    handler = inputs.normalize(handler or getattr(user, "username", "") or "").strip()
    if not handler:
        raise FieldErrors({"handler": _l("Enter the name of the staff member who handles this donation.")})
    if len(handler) > 100:
        raise FieldErrors({"handler": _l("At most %(n)s characters.", n=100)})
    with transaction():
        d = for_update(Donation.select().where(Donation.id == donation.id)).get()
        if d.status != "accepted":
            raise FieldErrors(_l("Only an accepted donation gets a receipt."))
        if d.receipt_state == "issued":
            raise FieldErrors(_l("This donation has a valid receipt already: void it first."))
        if d.receipt_state == "waived":
            raise FieldErrors(_l("The donor waived the receipt for this donation."))
        donor, team = d.donor, d.team
        number = numbering.take(RECEIPT_KIND, scope=f"team:{team.id}", pattern="{prefix}{year}{seq:06d}",
                                prefix=SETTINGS.get("receipt_prefix"))
        r = Receipt.create(number=number, donation=d, team=team, anonymous=donor.kind == "anonymous",
                           donor_name=str(ANONYMOUS) if donor.kind == "anonymous" else donor.name,
                           property_type=d.property_type, quantity_text=quantity_text(d),
                           organisation=team.name, handler=handler, issued_on=today(),
                           issued_by=getattr(_user(user), "id", None))
        Donation.update(receipt_state="issued").where(Donation.id == d.id).execute()
        audit.log("giving.receipt.issued", r, {"number": number, "donation_id": d.id}, user=_user(user))
    return r


def waive_receipt(donation: Donation, reason: str, user=None) -> Donation:
    """The donor does not want a receipt: recorded as such (R-DON-3), with what the donor said."""
    _require_team(user, donation.team_id)
    reason = inputs.normalize(reason or "").strip()
    if not reason:
        raise FieldErrors({"reason": _l("Say how the donor waived the receipt.")})
    with transaction():
        d = for_update(Donation.select().where(Donation.id == donation.id)).get()
        if d.receipt_state != "none" or d.status != "accepted":
            raise FieldErrors(_l("Only an accepted donation without a receipt can have its receipt waived."))
        Donation.update(receipt_state="waived", waive_reason=reason[:300]).where(Donation.id == d.id).execute()
        audit.log("giving.receipt.waived", d, {"reason": reason[:300]}, user=_user(user))
    return Donation.get_by_id(donation.id)


def void_receipt(receipt: Receipt, reason: str, user=None) -> Receipt:
    """Void an issued receipt with a reason (LG7): the row and its number stay, the register marks the
    number voided, the donation may get a new receipt (the next number). Only a user holding
    ``giving.receipt.void`` on this receipt — the finance role (财务), or a platform admin — may void it
    (issue 15 point 7); anyone else is ``GivingDenied``."""
    _require_team(user, receipt.team_id)
    if user is not None:
        from core.security import can
        if not can("giving.receipt.void", receipt, user=user):
            raise GivingDenied(receipt.team_id)
    reason = inputs.normalize(reason or "").strip()
    if not reason:
        raise FieldErrors({"reason": _l("Give the reason for voiding this receipt.")})
    with transaction():
        r = for_update(Receipt.select().where(Receipt.id == receipt.id)).get()
        if r.status != "issued":
            raise FieldErrors(_l("This receipt is voided already."))
        Receipt.update(status="voided", void_reason=reason[:500], voided_at=now(),
                       voided_by=getattr(_user(user), "id", None)).where(Receipt.id == r.id).execute()
        numbering.void(RECEIPT_KIND, r.number, reason=reason, scope=f"team:{r.team_id}", actor=_user(user))
        Donation.update(receipt_state="none").where(Donation.id == r.donation_id).execute()
        audit.log("giving.receipt.voided", r, {"number": r.number, "reason": reason[:500]}, user=_user(user))
    return Receipt.get_by_id(receipt.id)


def record_official_number(receipt: Receipt, number: str, user=None) -> Receipt:
    """The official 财政票据 number the organisation issued for this donation (R-DON-3), recorded once
    against a valid receipt; what the receipt states is not touched. Audited."""
    _require_team(user, receipt.team_id)
    number = inputs.normalize(number or "").strip().upper()
    if not number:
        raise FieldErrors({"official_number": _l("Enter the number printed on the official receipt.")})
    if len(number) > 64:
        raise FieldErrors({"official_number": _l("At most %(n)s characters.", n=64)})
    with transaction():
        r = for_update(Receipt.select().where(Receipt.id == receipt.id)).get()
        if r.status != "issued":
            raise FieldErrors(_l("This receipt is voided already."))
        if r.official_number:
            raise FieldErrors({"official_number": _l("An official receipt number is recorded already.")})
        Receipt.update(official_number=number).where(Receipt.id == r.id).execute()
        audit.log("giving.receipt.official_number", r, {"number": r.number, "official_number": number},
                  user=_user(user))
    return Receipt.get_by_id(receipt.id)


# -------------------------------------------------------------------------------------------- PDFs
def _fmt_date(d) -> str:
    return d.isoformat() if isinstance(d, (_dt.date, _dt.datetime)) else ""


def receipt_pdf(receipt: Receipt) -> bytes:
    """捐赠票据 as a PDF: number, donor (or 匿名), property type and quantity, organisation, handler, date;
    a voided receipt says so in its title."""
    from plugins.documents.services import Cell, form_pdf
    title = _("Donation receipt")
    if receipt.status == "voided":
        title = _("Donation receipt (VOIDED: %(reason)s)", reason=receipt.void_reason)
    grid = [
        [Cell(_("Receipt number"), label=True), Cell(receipt.number, span=3)],
        [Cell(_("Donor"), label=True), Cell(receipt.donor_name, span=3)],
        [Cell(_("Property type"), label=True), Cell(receipt.property_type),
         Cell(_("Quantity or amount"), label=True), Cell(receipt.quantity_text)],
        [Cell(_("Receiving organisation"), label=True), Cell(receipt.organisation, span=3)],
        [Cell(_("Handler"), label=True), Cell(receipt.handler), Cell(_("Date"), label=True),
         Cell(_fmt_date(receipt.issued_on))],
    ]
    if receipt.official_number:
        grid.append([Cell(_("Official receipt number"), label=True), Cell(receipt.official_number, span=3)])
    return form_pdf(title, grid, columns=[1, 2, 1, 2], signatures=[(_("Receiving organisation (seal)"), "")])


def agreement_required(d: Donation) -> bool:
    """R-DON-2: when the donor asks, and always when a beneficiary is designated (二(三)1(3))."""
    return bool(d.wants_agreement or d.beneficiary)


def agreement_pdf(d: Donation) -> bytes:
    """捐赠协议 (R-DON-2) with every required field: donor, recipient, property type, quantity, quality,
    purpose, delivery time."""
    from plugins.documents.services import Cell, form_pdf
    donor = d.donor
    grid = [
        [Cell(_("Donor"), label=True), Cell(str(donor), span=3)],
        [Cell(_("Recipient of the donation"), label=True), Cell(d.team.name, span=3)],
        [Cell(_("Property type"), label=True), Cell(d.property_type),
         Cell(_("Quantity or amount"), label=True), Cell(quantity_text(d))],
        [Cell(_("Quality or condition"), label=True),
         Cell(d.condition if d.kind == "goods" else _("Money"), span=3)],
        [Cell(_("Purpose of the donation"), label=True), Cell(d.purpose or _("Not restricted"), span=3)],
        [Cell(_("Designated beneficiary"), label=True), Cell(d.beneficiary or "—", span=3)],
        [Cell(_("Delivery time"), label=True), Cell(_fmt_date(d.delivery_on or d.donated_on), span=3)],
    ]
    return form_pdf(_("Donation agreement"), grid, columns=[1, 2, 1, 2],
                    signatures=[(_("Donor (signature)"), ""), (_("Recipient (seal)"), "")])


def verify() -> list[str]:
    """``timebank check``: every receipt number is in the core register with the same status; at most one
    valid receipt per donation, and the donation says so."""
    problems = []
    for r in Receipt.select():
        st = numbering.status(RECEIPT_KIND, r.number, scope=f"team:{r.team_id}")
        if st != r.status:
            problems.append(f"receipt {r.number}: register says {st}, receipt says {r.status}")
    for d in Donation.select():
        valid = Receipt.select().where((Receipt.donation == d.id) & (Receipt.status == "issued")).count()
        if valid > 1 or (valid == 1) != (d.receipt_state == "issued"):
            problems.append(f"donation {d.id}: {valid} valid receipt(s), state {d.receipt_state}")
    return problems


# ------------------------------------------------------------------------------------ disclosure
NAME_WITHHELD = _l("Donor (name not published)")


def public_name(donor: Donor) -> str:
    """The name shown on the public page (R-DON-4, R-PRIV-1): only when the donor agreed; an anonymous
    donor is never named."""
    if donor.kind == "anonymous":
        return str(ANONYMOUS)
    return donor.name if donor.disclose_name else str(NAME_WITHHELD)


def disclosure(team: Team, year: int | None = None) -> dict:
    """What the public page of ``team`` shows (R-DON-4, first part): accepted donations of the year with the
    donor's name only when agreed, and money received by purpose (fen). Nothing personal beyond that."""
    year = year or today().year
    start, end = _dt.date(year, 1, 1), _dt.date(year, 12, 31)
    q = (Donation.select(Donation, Donor).join(Donor)
         .where((Donation.team == team.id) & (Donation.status == "accepted")
                & (Donation.donated_on >= start) & (Donation.donated_on <= end))
         .order_by(Donation.donated_on, Donation.id))
    rows, by_purpose, total = [], {}, 0
    for d in q:
        rows.append({"date": d.donated_on, "donor": public_name(d.donor), "kind": d.kind,
                     "property_type": d.property_type, "quantity": quantity_text(d), "purpose": d.purpose})
        if d.kind == "money":
            by_purpose[d.purpose] = by_purpose.get(d.purpose, 0) + d.amount
            total += d.amount
    return {"team": team, "year": year, "rows": rows, "by_purpose": sorted(by_purpose.items()), "total": total}


def record_with_donor(data: dict, user=None) -> Donation:
    """A new donor and their gift in one step (the staff form): both or nothing. ``donor_kind``,
    ``donor_name`` name the donor; the rest are the fields of ``record_money`` / ``record_goods``
    (``kind`` money or goods)."""
    kind = data.get("kind")
    if kind not in ("money", "goods"):
        raise FieldErrors({"kind": _l("Choose money or goods.")})
    errors: dict = {}
    rename = {"name": "donor_name", "kind": "donor_kind"}
    with transaction():                      # an error below rolls the donor back too
        try:
            donor = save_donor({"team_id": data.get("team_id"), "kind": data.get("donor_kind"),
                                "name": data.get("donor_name"), "phone": data.get("phone"),
                                "id_number": data.get("id_number"), "address": data.get("address"),
                                "disclose_name": data.get("disclose_name")}, user)
        except FieldErrors as e:
            errors.update({rename.get(k, k): v for k, v in e.errors.items()})
            donor = None
        try:
            fields = {**data, "donor_id": donor.id if donor else None}
            d = record_money(fields, user) if kind == "money" else record_goods(fields, user)
        except FieldErrors as e:             # every field's message at once
            errors.update({k: v for k, v in e.errors.items() if not (donor is None and k == "donor_id")})
        if errors:
            raise FieldErrors(errors)
    return d
