"""The plugin's blueprint: no public pages yet; it carries the templates (incentives/…) of the admin pages
and the volunteer panel."""
from flask import Blueprint

bp = Blueprint("incentives", __name__, url_prefix="/incentives", template_folder="templates")
