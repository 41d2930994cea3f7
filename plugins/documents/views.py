"""The documents plugin's one page: the answer to a DocumentError raised anywhere (site or admin)."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, render_template, request

from .services import DocumentError

bp = Blueprint("documents", __name__, template_folder="templates")


def _same_site_referrer() -> str | None:
    """The page the visitor came from, as a path on this site through the kernel's one
    safe-redirect check (SECURITY.md NS3): never another host, never ``/\\evil.example``."""
    from core.web import safe_next
    try:
        ref = urlsplit(request.referrer or "")
    except ValueError:
        return None
    if ref.netloc != request.host:
        return None
    return safe_next(ref.path + (f"?{ref.query}" if ref.query else ""), default=None)


@bp.app_errorhandler(DocumentError)
def document_error(e: DocumentError):
    """A clear page in the user's language naming the fix, status 503 (a set-up problem of the
    server, not a crash): never a 500, never a PDF with empty boxes."""
    current_app.logger.warning("document not produced: %s %s", e, e.detail)
    return render_template("documents/error.html", message=str(e), back=_same_site_referrer()), 503
