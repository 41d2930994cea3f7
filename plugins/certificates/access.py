"""Team isolation for certificates (SECURITY.md AC6): a team admin reaches only the certificates,
lines and issuer settings of their own team tree; site-wide roles reach all."""
from plugins.teams.services import admin_team_ids

from .models import Certificate, CertificateLine, Issuer

SCOPED = (Certificate, CertificateLine, Issuer)


def scope_expression(model, user):
    ids = admin_team_ids(user)
    if ids is None:
        return None
    ids = ids or [-1]
    if model is Certificate:
        return Certificate.team.in_(ids)
    if model is Issuer:
        return Issuer.team.in_(ids)
    if model is CertificateLine:
        return CertificateLine.certificate.in_(Certificate.select(Certificate.id).where(Certificate.team.in_(ids)))
    return None


def object_allowed(user, obj):
    model = type(obj)
    if model not in SCOPED:
        return None
    ids = admin_team_ids(user)
    if ids is None:
        return None
    if model is CertificateLine:
        team_id = Certificate.get_by_id(obj.certificate_id).team_id
    else:
        team_id = obj.team_id
    return team_id in ids if team_id is not None else False
