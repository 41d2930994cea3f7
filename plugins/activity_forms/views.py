"""No pages of its own outside the admin: this blueprint only makes templates/ known to Flask."""
from flask import Blueprint

bp = Blueprint("activity_forms_site", __name__, template_folder="templates")
