"""Documents (文书): printable PDFs with an embedded Chinese font and XLSX workbooks for other plugins.
Hook implementations only; the public API is ``plugins.documents.services``."""
from core import hookimpl


@hookimpl
def register_blueprints(app):
    from .views import bp
    return [bp]


@hookimpl
def site_checks():
    """``timebank check`` reports the font PDFs embed, or the fix when there is none."""
    from .services import font_status
    ok, message = font_status()
    return [("documents.cjk_font", ok, message)]
