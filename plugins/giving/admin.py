"""Admin lists of 捐赠与票据: read-only (every change goes through services.py, audited); donors' phone and
ID numbers are shown masked (PR5); each list is scoped to the user's team tree (AC6)."""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from core import money, pii
from core.admin import ReadOnlyModelView

from .models import CHANNELS, DONATION_KINDS, DONOR_KINDS, RECEIPT_STATES, STATUSES

LABELS = {"team": _l("Receiving team"), "kind": _l("Kind"), "name": _l("Name"), "phone": _l("Phone"),
          "id_number": _l("ID number"), "address": _l("Address"), "disclose_name": _l("May be named publicly"),
          "created_at": _l("Recorded at"), "donor": _l("Donor"), "amount": _l("Amount"),
          "channel": _l("Channel"), "donated_on": _l("Date given"), "property_type": _l("Property type"),
          "description": _l("Description"), "quantity": _l("Quantity"), "unit": _l("Unit"),
          "condition": _l("Quality or condition"), "expiry_on": _l("Expiry date"),
          "delivery_on": _l("Delivery date"), "purpose": _l("Purpose of the donation"),
          "beneficiary": _l("Designated beneficiary"), "wants_agreement": _l("Agreement asked for"),
          "status": _l("Status"), "check_note": _l("Safety check"), "refuse_reason": _l("Reason refused"),
          "receipt_state": _l("Receipt"), "waive_reason": _l("Why the receipt was waived"),
          "number": _l("Receipt number"), "donor_name": _l("Donor"), "quantity_text": _l("Quantity or amount"),
          "organisation": _l("Receiving organisation"), "handler": _l("Handler"), "issued_on": _l("Date"),
          "void_reason": _l("Reason voided"), "official_number": _l("Official receipt number"),
          "anonymous": _l("Anonymous")}


def _choice(choices):
    return lambda view, context, model, name: choices.get(getattr(model, name), getattr(model, name))


class DonorView(ReadOnlyModelView):
    permission = "giving.donor"
    allow_export = False
    column_list = ["name", "kind", "team", "phone", "id_number", "disclose_name", "created_at"]
    column_details_list = column_list + ["address"]
    column_searchable_list = ["name"]
    column_labels = LABELS
    column_formatters = {"kind": _choice(DONOR_KINDS),
                         "name": lambda v, c, m, n: str(m),
                         "phone": lambda v, c, m, n: pii.mask_phone(m.phone),
                         "id_number": lambda v, c, m, n: pii.mask_id(m.id_number)}


def _agreement(view, context, model, name):
    """R-DON-2: the agreement PDF when the donor asked for one or designated a beneficiary."""
    from .services import agreement_required
    if not agreement_required(model):
        return _l("No")
    return Markup('<a href="{}">{}</a>').format(url_for("giving.agreement_pdf", donation_id=model.id),
                                               _l("Donation agreement"))


class DonationView(ReadOnlyModelView):
    permission = "giving.donation"
    allow_export = False
    column_list = ["id", "donated_on", "donor", "kind", "property_type", "amount", "quantity", "unit", "status",
                   "receipt_state", "wants_agreement", "team"]
    column_details_list = ["id", "team", "donor", "kind", "amount", "channel", "donated_on", "property_type",
                           "description", "quantity", "unit", "condition", "expiry_on", "delivery_on", "purpose",
                           "beneficiary", "wants_agreement", "status", "check_note", "refuse_reason",
                           "receipt_state", "waive_reason", "created_at"]
    column_filters = ["kind", "status", "donated_on"]
    column_default_sort = ("id", True)
    column_labels = LABELS
    column_formatters = {"kind": _choice(DONATION_KINDS), "status": _choice(STATUSES),
                         "channel": _choice(CHANNELS), "receipt_state": _choice(RECEIPT_STATES),
                         "amount": lambda v, c, m, n: money.fmt(m.amount) if m.amount is not None else "",
                         "wants_agreement": _agreement,
                         "id": lambda v, c, m, n: Markup('<a href="{}">#{}</a>').format(
                             url_for("giving.donation", donation_id=m.id), m.id)}


class ReceiptView(ReadOnlyModelView):
    permission = "giving.receipt"
    allow_export = False
    column_list = ["number", "issued_on", "donor_name", "property_type", "quantity_text", "handler", "status",
                   "void_reason", "team"]
    column_details_list = column_list + ["organisation", "anonymous", "official_number", "issued_at", "voided_at"]
    column_searchable_list = ["number"]
    column_filters = ["status", "issued_on"]
    column_default_sort = ("id", True)
    column_labels = LABELS
    column_formatters = {"status": lambda v, c, m, n: _l("Voided") if m.status == "voided" else _l("Issued"),
                         "number": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
                             url_for("giving.receipt_pdf", receipt_id=m.id), m.number)}
