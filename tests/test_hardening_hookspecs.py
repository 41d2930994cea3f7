"""Hook specifications pluggy accepts without a warning (issue 11 point 15).

pluggy reads the functions of a class as methods: a spec declared in a class without ``self`` gives a
DeprecationWarning today and will be an error in a later pluggy. The activities plugin declared
``activity_admin_links`` that way; it is now a module of functions, as docs/plugins.md asks, and the
kernel refuses a plugin whose ``HOOKSPECS`` pluggy warns about, naming the plugin."""
from __future__ import annotations

import inspect
import types
import warnings

import pluggy
import pytest

from core import PluginError
from core import hookspecs as core_specs
from core import plugins as P


def _builtin_plugins() -> dict:
    found, _problems = P.discover()
    return {n: i for n, i in found.items() if i.source == "builtin" and i.manifest.get("installable", True)}


def _pluggy_warnings(caught) -> list[str]:
    pkg = pluggy.__file__.rsplit("/", 1)[0]
    return [f"{w.filename}:{w.lineno}: {w.message}" for w in caught
            if issubclass(w.category, pluggy.PluggyWarning) or str(w.filename).startswith(pkg)]


def _spec_functions(namespace):
    for name in dir(namespace):
        fn = getattr(namespace, name)
        if callable(fn) and getattr(fn, "timebank_spec", None) is not None:
            yield name, fn


@pytest.mark.once
def test_hookspecs_every_spec_of_core_and_of_every_builtin_plugin_is_one_pluggy_accepts():
    """issue 11 point 15: every ``@hookspec`` of the kernel and of each built-in plugin's ``HOOKSPECS``
    is added to a plugin manager with warnings as errors; a class's spec takes ``self`` first (or is a
    staticmethod). Failed before: activities' ``HOOKSPECS.activity_admin_links(activity, user)``."""
    namespaces = {"core": core_specs}
    for name, info in sorted(_builtin_plugins().items()):
        specs = getattr(P.import_plugin(info), "HOOKSPECS", None)
        if specs is not None:
            namespaces[name] = specs
    assert {"core", "activities", "sms"} <= set(namespaces)
    for owner, ns in namespaces.items():
        pm = pluggy.PluginManager("timebank")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            pm.add_hookspecs(ns)
        found = list(_spec_functions(ns))
        assert found, owner
        for name, fn in found:
            if inspect.isclass(ns) and not isinstance(inspect.getattr_static(ns, name), staticmethod):
                first = next(iter(inspect.signature(fn).parameters), None)
                assert first == "self", f"{owner}.{name}: a spec in a class takes self first"
            assert getattr(pm.hook, name).spec is not None, (owner, name)


def test_hookspecs_loading_every_builtin_plugin_gives_no_pluggy_warning(make_app):
    """issue 11 point 15: a site with every built-in plugin starts without one pluggy warning."""
    names = sorted(_builtin_plugins())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = make_app(plugins=names)
    assert _pluggy_warnings(caught) == []
    assert set(names) <= set(app.extensions["timebank"].loaded)
    assert app.extensions["timebank"].pm.hook.activity_admin_links.spec is not None


@pytest.mark.once
def test_hookspecs_a_plugin_whose_class_spec_lacks_self_is_refused_by_name():
    """issue 11 point 15: the defect class for any plugin: the kernel refuses it with a PluginError
    naming the plugin instead of a warning that a pluggy upgrade turns into a start-up crash."""
    from core.hookspecs import hookspec

    class HOOKSPECS:
        @hookspec
        def fx_noself_links(activity, user):
            """A spec written like the old activities one."""

    mod = types.ModuleType("fx_noself")
    mod.HOOKSPECS = HOOKSPECS
    pm = pluggy.PluginManager("timebank")
    pm.add_hookspecs(core_specs)
    with pytest.raises(PluginError, match=r"plugin fx_noself: its HOOKSPECS cannot be added: .*self"):
        P.register_hooks(pm, {"fx_noself": mod}, ["fx_noself"])

    class Good:
        @hookspec
        def fx_self_links(self, activity, user):
            """The same spec with self."""

    mod.HOOKSPECS = Good
    pm = pluggy.PluginManager("timebank")
    pm.add_hookspecs(core_specs)
    P.register_hooks(pm, {"fx_noself": mod}, ["fx_noself"])
    assert pm.hook.fx_self_links.spec.argnames == ("activity", "user")
