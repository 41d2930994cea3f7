"""Hooks declared by the privacy plugin (``HOOKSPECS`` in ``__init__.py``: the kernel adds them to the
site's plugin manager while privacy is enabled). The one contract for personal data across plugins
(issue 13 point 1; R-PRIV-1…5, SECURITY.md PR1, PR6, PR7; PIPL 44–47, 55).

A plugin that stores personal data implements all three with ``@hookimpl(optionalhook=True)``, so that it
still loads without privacy. The shapes are in ``plugins.privacy.contract`` (import it inside the hook
function: it is only called while privacy is loaded).
"""
from core.hookspecs import hookspec


@hookspec
def personal_data_declarations():
    """What personal data this plugin stores: a list of ``contract.Declaration`` (model, fields, whose
    data — volunteer, recipient or user —, purpose, legal basis, retention, sensitivity per field, who
    may see it). Every model with a field tagged personal (``contract.personal_fields``) must be declared
    by the plugin that registers it; the processing record (个人信息处理活动记录) is generated from these."""


@hookspec
def personal_data_export(subject):
    """What this plugin holds about one data subject (``contract.Subject``): a list of
    ``contract.ExportPart`` (a title, readable columns and rows, and machine-readable data), or None.
    Only ever called for the subject who asked, or by staff for a recipient; do not audit here (the
    privacy plugin audits the whole export once)."""


@hookspec
def personal_data_erase(subject, actor):
    """Remove or anonymise what this plugin holds about ``subject`` inside the caller's transaction, and
    say what was removed and what is kept by law (e.g. the ledger history without the name): a
    ``contract.ErasePart`` or None. Must be idempotent: a second call changes nothing."""
