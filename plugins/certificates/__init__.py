"""Service certificates (服务证明, 附录六; R-CERT-1…3, R-NAT-5…7, LG7): hook implementations only; the
business steps are in services.py, the layout in pdf.py."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Permission, Role
from plugins.teams.scoping import team_scoped

from . import hookspecs

HOOKSPECS = hookspecs

PERMISSIONS = {
    "certificates.certificate.view": _l("View service certificates"),
    "certificates.certificate.review": _l("Approve or reject certificate applications"),
    "certificates.certificate.revoke": _l("Revoke issued certificates"),
    "certificates.certificate.issue": _l("Issue certificates for a whole activity"),
    "certificates.certificate.export": _l("Print certificates and export the list"),
    "certificates.issuer.view": _l("View certificate seals and signatories"),
    "certificates.issuer.edit": _l("Change certificate seals and signatories"),
}


@hookimpl
def register_models():
    from .models import Certificate, CertificateLine, Issuer
    return [Certificate, CertificateLine, Issuer]


@hookimpl
def register_permissions():
    return [Permission(name, title) for name, title in PERMISSIONS.items()]


@hookimpl
def register_roles():
    """The unit that keeps the records issues the certificate (R-NAT-5): team admins decide for their
    own team tree (scoped by the hooks below); platform admins hold every permission already."""
    return [Role("team_admin", permissions=list(PERMISSIONS))]


def _scoped_models():
    from .models import Certificate, CertificateLine, Issuer
    return {Certificate: "team", Issuer: "team", CertificateLine: "certificate.team"}


# a team admin reaches only the certificates, lines and issuer settings of their own team tree (AC6)
scope_query, permission_allowed = team_scoped(_scoped_models)


@hookimpl
def register_events():
    from .services import EVENTS
    return EVENTS


@hookimpl
def register_admin_views(admin):
    from .admin import CertificateView, IssuerView
    from .models import Certificate, Issuer
    cat = _l("Certificates")
    return [CertificateView(Certificate, name=_l("Service certificates"), endpoint="certificates_certificate",
                            category=cat),
            IssuerView(Issuer, name=_l("Seals and signatories"), endpoint="certificates_issuer", category=cat)]


@hookimpl
def register_blueprints(app):
    from .views import bp
    return [bp]


@hookimpl
def register_menu(user):
    from core.web import MenuItem
    if user is not None and getattr(user, "is_authenticated", False):
        return [MenuItem(_l("My certificates"), url_for("certificates.mine"), None, order=33)]
    return []


@hookimpl
def volunteer_panels(volunteer, user):
    from markupsafe import Markup
    from core.web import Widget
    from .models import Certificate
    n = Certificate.select().where((Certificate.volunteer == volunteer.id)
                                   & (Certificate.status == "approved")).count()
    body = Markup('<p>{}: <strong>{}</strong></p><p><a href="{}">{}</a></p>').format(
        _l("Issued certificates"), n, url_for("certificates.mine"), _l("Apply for a service certificate"))
    return [Widget(_l("My certificates"), body, order=6)]


@hookimpl
def dashboard_widgets(user):
    from markupsafe import Markup
    from core import security
    from core.web import Widget
    from .models import Certificate
    if not security.can("certificates.certificate.review", user=user):
        return []
    q = security.scoped(Certificate, Certificate.select().where(Certificate.status == "pending"),
                        "certificates.certificate.view", user=user)
    return [Widget(_l("Certificate applications"), Markup(
        '<p class="display-4">{}</p><p><a href="{}">{}</a></p>').format(
            q.count(), url_for("certificates_certificate.index_view"), _l("Review")),
        order=32, width=4)]


@hookimpl
def site_checks():
    from .services import check_numbers
    ok, message = check_numbers()
    return [("certificates.numbers", ok, message)]


@hookimpl(optionalhook=True)
def activity_admin_links(activity, user):
    """A button on a finished activity's admin page: issue certificates to everyone who served."""
    from core import security
    from .models import Certificate
    if activity.kind != "service" or not security.can("certificates.certificate.issue",
                                                       Certificate(team=activity.team_id), user=user):
        return []
    return [(_l("Issue certificates"), url_for("certificates_certificate.batch_view", activity=activity.id))]


@hookimpl
def load_demo_data(app):
    from .demo import load
    load(app)


@hookimpl
def home_sections(authenticated):
    from markupsafe import Markup
    from core.web import Widget
    return [Widget(_l("Verify a service certificate"), Markup("<p>{}</p>").format(_l(
        "Every service certificate carries a QR code. Scan it with a phone camera: it opens this site's "
        "verification page, which shows the certificate's number, the holder's name (partly hidden), the "
        "hours and whether it is still valid.")), order=50)]


# ------------------------------------------------------------------ the privacy plugin's contract
# what personal data this plugin stores, one subject's export and erasure (issue 13 point 1): .privacy
from plugins.privacy.contract import contract_hooks  # noqa: E402
personal_data_declarations, personal_data_export, personal_data_erase = contract_hooks(
    __name__ + ".privacy")
