"""系统设置: one admin page per plugin where a platform admin changes the plugin's settings
(RULES.md: every number in a rule is a setting an admin can change; issue 11 point 16).

The fields are typed from the defaults (bool, int, float, text, choices), labelled and explained from the
manifest's ``settings_meta`` in the user's language, with the handbook default beside each. A save goes
through ``core.settings.change``: the plugin's own bounds and rules are checked first, a refused value is a
field error and nothing is saved; every change is audited with its old and new value. CSRF is Flask-WTF's
global protection (the form carries the token); the page needs ``core.settings.manage``.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _

from .admin import PermissionView
from . import settings as S

PERMISSION = "core.settings.manage"


def _plugins_with_settings() -> list:
    from . import plugins as P
    available, _problems = P.discover()
    loaded = current_app.extensions["timebank"].loaded
    return [available[n] for n in loaded if n in available and available[n].manifest.get("settings")]


class SettingsView(PermissionView):
    permission = PERMISSION

    @expose("/")
    def index(self):
        return self.render("admin/tb_settings.html", plugins=_plugins_with_settings(), current=None)

    # the URL argument must not be called "name" (see PluginsView.change)
    @expose("/<plugin>", methods=["GET", "POST"])
    def edit(self, plugin):
        infos = {i.name: i for i in _plugins_with_settings()}
        if plugin not in infos:
            abort(404)
        specs = S.specs_from_manifest(infos[plugin].manifest)
        values = {k: S.to_text(v) for k, v in S.current_values(specs).items()}
        errors: dict = {}
        if request.method == "POST":
            raw = {s.key: request.form.get(s.key, "") for s in specs}
            try:
                done = S.change(plugin, raw, via="admin")
            except S.SettingError as e:
                errors = {k: str(m) for k, m in e.errors.items()}
                values.update(raw)
                flash(_("Nothing was saved: correct the marked settings."), "error")
            else:
                if done:
                    flash(_("Saved: %(names)s.", names=", ".join(
                        _(s.label) for s in specs if s.key in {d[0] for d in done})), "success")
                else:
                    flash(_("Nothing was changed."), "info")
                return redirect(url_for(".edit", plugin=plugin))
        html = self.render("admin/tb_settings.html", plugins=list(infos.values()), current=infos[plugin],
                           specs=specs, values=values, errors=errors)
        return (html, 400) if errors else html
