"""Admin lists of stock and use (issue 15 point 4), read-only: every movement and allocation goes through
stock.py (audited, append-only); a movement or an allocation is undone with the reverse link (a page that
asks for the reason). Each list is scoped to the user's team tree (AC6)."""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from core import money, security
from core.admin import ReadOnlyModelView

from .stock import MOVEMENT_KINDS, activity_title

LABELS = {"team": _l("Receiving team"), "donation": _l("Gift"), "property_type": _l("Property type"),
          "description": _l("Description"), "unit": _l("Unit"), "expiry_on": _l("Expiry date"),
          "received": _l("Quantity received"), "on_hand": _l("Quantity in stock"),
          "created_at": _l("Recorded at"), "item": _l("Donated goods in stock"), "kind": _l("Kind"),
          "change": _l("Change of quantity"), "purpose": _l("Purpose of the donation"),
          "campaign": _l("Campaign"), "activity_id": _l("Activity"), "recipient_id": _l("Service recipient"),
          "beneficiary": _l("Beneficiary"), "note": _l("Note or reason"), "reverses": _l("Reverses entry"),
          "amount": _l("Amount"), "id": _l("Entry"), "reverse": _l("Reverse")}


def _donation_link(view, context, model, name):
    return Markup('<a href="{}">#{}</a>').format(url_for("giving_use.use", donation_id=model.donation_id),
                                                model.donation_id)


def _reverse_link(endpoint, perm):
    def fmt(view, context, model, name):
        if model.reverses_id is not None or getattr(model, "kind", "") == "reversal":
            return ""
        if not security.can(perm, model):
            return ""
        return Markup('<a href="{}">{}</a>').format(url_for(endpoint, entry_id=model.id), _l("Reverse"))
    return fmt


def _activity(view, context, model, name):
    return activity_title(model.activity_id)


class StockItemView(ReadOnlyModelView):
    permission = "giving.stock"
    allow_export = False
    column_list = ["donation", "property_type", "description", "unit", "received", "on_hand", "expiry_on", "team"]
    column_details_list = column_list + ["created_at"]
    column_searchable_list = ["property_type", "description"]
    column_filters = ["expiry_on"]
    column_default_sort = ("id", True)
    column_labels = LABELS
    column_formatters = {"donation": _donation_link}


class MovementView(ReadOnlyModelView):
    permission = "giving.stock"
    allow_export = False
    column_list = ["id", "created_at", "item", "kind", "change", "purpose", "activity_id", "beneficiary",
                   "note", "reverses", "reverse", "team"]
    column_details_list = ["id", "created_at", "item", "kind", "change", "purpose", "campaign", "activity_id",
                           "recipient_id", "beneficiary", "note", "reverses", "team"]
    column_filters = ["kind", "created_at"]
    column_default_sort = ("id", True)
    column_labels = LABELS
    column_formatters = {"kind": lambda v, c, m, n: MOVEMENT_KINDS.get(m.kind, m.kind),
                         "activity_id": _activity,
                         "reverses": lambda v, c, m, n: f"#{m.reverses_id}" if m.reverses_id else "",
                         "reverse": _reverse_link("giving_use.reverse_movement", "giving.stock.use")}


class AllocationView(ReadOnlyModelView):
    permission = "giving.allocation"
    allow_export = False
    column_list = ["id", "created_at", "donation", "amount", "purpose", "campaign", "activity_id", "beneficiary",
                   "note", "reverses", "reverse", "team"]
    column_details_list = ["id", "created_at", "donation", "amount", "purpose", "campaign", "activity_id",
                           "recipient_id", "beneficiary", "note", "reverses", "team"]
    column_filters = ["created_at"]
    column_default_sort = ("id", True)
    column_labels = LABELS
    column_formatters = {"amount": lambda v, c, m, n: money.fmt(m.amount),
                         "donation": _donation_link, "activity_id": _activity,
                         "reverses": lambda v, c, m, n: f"#{m.reverses_id}" if m.reverses_id else "",
                         "reverse": _reverse_link("giving_use.reverse_allocation", "giving.allocation.record")}
