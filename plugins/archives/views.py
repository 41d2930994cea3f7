"""No public pages: this blueprint only makes templates/ known to Flask."""
from flask import Blueprint

bp = Blueprint("archives_site", __name__, template_folder="templates")
