"""The shapes of the personal-data contract (issue 13 point 1): what plugins return from the hooks in
``hookspecs.py``. Plain data classes, no database access: any plugin may import this module."""
from __future__ import annotations

import dataclasses
import datetime as _dt
import decimal
from typing import Any

import peewee as pw

# whose data a declaration is about
SUBJECT_KINDS = ("volunteer", "recipient", "user", "contact")  # contact: a team's or partner's contact person
# sensitivity tags (SECURITY.md PR1): sensitive = encrypted + masked; personal = shown to those who
# manage the subject; public = may appear on public pages
SENSITIVITIES = ("sensitive", "personal", "public")


@dataclasses.dataclass(frozen=True)
class Subject:
    """One data subject: a volunteer (``volunteer_id``, and the login ``user_id`` if any) or a user
    without a volunteer record. ``kind`` is one of SUBJECT_KINDS."""
    kind: str
    user_id: int | None = None
    volunteer_id: int | None = None
    recipient_id: int | None = None


@dataclasses.dataclass
class Declaration:
    """Personal data one model holds. ``fields``: field name → sensitivity (SENSITIVITIES).
    ``purpose``, ``legal_basis``, ``retention`` and ``access`` are texts for the processing record
    (lazy_gettext strings)."""
    model: type
    fields: dict
    subject: str
    purpose: Any
    legal_basis: Any
    retention: Any
    access: Any = ""
    labels: dict = dataclasses.field(default_factory=dict)   # field → label for people (optional)
    plugin: str = ""          # filled in by the privacy plugin
    public: bool = False      # shown on public pages (names, faces): an impact assessment (PIPL 55(3))
    shared_with: Any = ""     # entrusted to or shared with (a partner, a gateway): an impact assessment

    def __post_init__(self):
        if self.subject not in SUBJECT_KINDS:
            raise ValueError(f"{self.model.__name__}: unknown subject kind {self.subject!r}")
        names = set(self.model._meta.fields)
        for f, tag in self.fields.items():
            if f not in names:
                raise ValueError(f"{self.model.__name__}: no field {f!r}")
            if tag not in SENSITIVITIES:
                raise ValueError(f"{self.model.__name__}.{f}: unknown sensitivity {tag!r}")


@dataclasses.dataclass
class ExportPart:
    """What one plugin holds about a subject, in one table: ``columns`` and ``rows`` for people (the
    readable HTML), ``data`` for machines (the JSON)."""
    title: Any
    columns: list
    rows: list
    data: Any = None
    files: list = dataclasses.field(default_factory=list)   # (name, bytes): e.g. photos, in files/ of the ZIP


@dataclasses.dataclass
class ErasePart:
    """What one plugin removed or anonymised, and what it keeps and why (texts)."""
    title: Any
    removed: list = dataclasses.field(default_factory=list)
    kept: list = dataclasses.field(default_factory=list)


def personal_fields(model) -> list[str]:
    """The fields of ``model`` tagged personal by their type: every encrypted, sealed or blind-index
    field of core.crypto, and every link to a volunteer or a user account; plus the names a model lists
    in ``PERSONAL_FIELDS``. Each must be declared (``Declaration.fields``) by a plugin."""
    from core import crypto
    from core.models import User
    crypto_types = tuple(getattr(crypto, n) for n in ("EncryptedField", "SealedField", "BlindIndexField",
                                                      "SealedDateTimeField") if hasattr(crypto, n))
    out = []
    for name, f in model._meta.fields.items():
        if isinstance(f, crypto_types):
            out.append(name)
        elif isinstance(f, pw.ForeignKeyField) and (
                f.rel_model is User or f.rel_model.__name__ == "Volunteer"
                and f.rel_model._meta.table_name == "volunteers_volunteer"):
            out.append(name)
    out += [n for n in getattr(model, "PERSONAL_FIELDS", ()) if n not in out]
    return out


def plain(value):
    """A value as JSON can hold it (dates ISO, Decimals as text, lazy strings as text)."""
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def contract_hooks(module: str, *, erase_last: bool = False):
    """The three hook implementations of this contract for a plugin, in one line of its ``__init__.py``::

        from plugins.privacy.contract import contract_hooks
        personal_data_declarations, personal_data_export, personal_data_erase = contract_hooks(
            __name__ + ".privacy")

    ``module`` (imported on first call, so the plugin's import stays light) defines ``declarations()``,
    ``export(subject)`` and ``erase(subject, actor)``. Optional hooks: a site without the privacy plugin
    loads the plugin all the same. ``erase_last``: erased after every other plugin (the volunteers plugin,
    whose record the others' rows point to)."""
    import importlib

    from core import hookimpl

    def target():
        return importlib.import_module(module)

    @hookimpl(optionalhook=True)
    def personal_data_declarations():
        return target().declarations()

    @hookimpl(optionalhook=True)
    def personal_data_export(subject):
        return target().export(subject)

    @hookimpl(optionalhook=True, trylast=erase_last)
    def personal_data_erase(subject, actor):
        return target().erase(subject, actor)

    return personal_data_declarations, personal_data_export, personal_data_erase
