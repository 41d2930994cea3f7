"""Field labels shared by the public pages and the admin (English msgids; zh_CN in the catalog)."""
from flask_babel import lazy_gettext as _l

LABELS = {
    "number": _l("Volunteer number"), "name": _l("Full name"), "nickname": _l("Nickname"),
    "gender": _l("Gender"), "id_type": _l("ID type"), "id_number": _l("ID number"),
    "birth_date": _l("Birth date"), "phone": _l("Mobile phone"), "email": _l("Email"),
    "political_status": _l("Political status"), "religion": _l("Religion"), "ethnicity": _l("Ethnicity"),
    "native_place": _l("Native place"), "household_place": _l("Household registration"),
    "district": _l("District"), "address": _l("Address"), "postcode": _l("Postcode"), "qq": "QQ",
    "wechat": _l("WeChat"), "education": _l("Education"), "school_major": _l("School and major"),
    "professional_title": _l("Professional title"), "job_title": _l("Post"),
    "occupation": _l("Occupation"), "employer": _l("Employer and address"),
    "specialties": _l("Specialties"), "hobbies": _l("Hobbies"),
    "service_intention": _l("Service intention"), "resume": _l("Résumé"), "remarks": _l("Remarks"),
    "status": _l("Status"), "registered_at": _l("Registered at"), "minor_basis": _l("Basis for a minor"),
    "guardian_name": _l("Guardian"), "guardian_phone": _l("Guardian's phone"),
    "agreement_accepted_at": _l("Agreement accepted at"),
    "sensitive_consent_at": _l("Sensitive-data consent at"),
    "pledge_accepted_at": _l("Party-member pledge at"), "user": _l("Account"),
    "password": _l("Password"), "password2": _l("Password again"), "agreement": _l("Service agreement"),
    "sensitive_consent": _l("Consent to sensitive personal information"),
    "pledge": _l("Party-member volunteer pledge"), "guardian_consent": _l("Guardian's consent"),
    "last_active_at": _l("Last activity"),
    "in_service_reported_on": _l("Reported to the community as an in-service Party member on"),
}
