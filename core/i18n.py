"""Localisation: zh_CN (Babel's ``zh_Hans_CN``) first, English second, switchable per user.

Source strings are English; every one has a zh_CN translation in ``locale/``. Catalogs (``.po``) are the
source of truth and are compiled to ``.mo`` into the instance folder at start-up when they changed, so no
binary file is committed. Plugins add catalog folders through ``register_translations``.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app, request, session
from flask_babel import Babel

CORE_LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGE_NAMES = {"zh_Hans_CN": "简体中文", "en": "English"}


def compile_catalogs(src_dirs: list[Path], cache_root: Path) -> list[str]:
    """Compile each folder's .po files into ``cache_root`` (mirrors the layout); return the folders."""
    out = []
    for src in src_dirs:
        src = Path(src)
        if not src.is_dir():
            continue
        key = hashlib.sha1(str(src.resolve()).encode()).hexdigest()[:12]
        dest_root = cache_root / key
        for po in src.glob("*/LC_MESSAGES/*.po"):
            mo = dest_root / po.relative_to(src).with_suffix(".mo")
            if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                continue
            mo.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=po.parent.parent.name)
            tmp = mo.with_suffix(".tmp")
            with tmp.open("wb") as fh:
                write_mo(fh, catalog)
            tmp.replace(mo)
        out.append(str(dest_root))
    return out


_LOCALES: dict = {}


def _locale(code: str):
    """A parsed ``babel.Locale`` per code (Flask-Babel would parse the code again on every request)."""
    loc = _LOCALES.get(code)
    if loc is None:
        from babel import Locale
        loc = _LOCALES[code] = Locale.parse(code)
    return loc


def select_locale():
    return _locale(_select_locale_code())


def _select_locale_code():
    cfg = current_app.config
    langs = cfg["LANGUAGES"]
    from flask_login import current_user
    try:
        user = current_user._get_current_object()
        if user is not None and user.is_authenticated and user.locale in langs:
            return user.locale
    except Exception:  # noqa: BLE001 - before login manager or outside a request
        pass
    lang = session.get("lang") if request else None
    if lang in langs:
        return lang
    return cfg["DEFAULT_LOCALE"]


ADMIN_DOMAIN = "admin"


def compile_admin_catalogs(languages, cache_root: Path, ours: Path = CORE_LOCALE_DIR) -> str:
    """Flask-Admin's own strings (its gettext domain ``admin``: buttons, flashes, the search box, the
    page-size menu) compiled from Flask-Admin's ``admin.po`` merged with ours, ``locale/<lang>/LC_MESSAGES/
    admin.po`` (ours wins), into ``cache_root``; the folder is given to ``Admin(translations_path=...)``.

    Flask-Admin 2.2 ships a zh_Hans_CN ``admin.mo`` older than its ``admin.po`` ("Failed to create
    record." is missing from it), and its page-size menu asks for msgids such as "20 items" that no
    catalogue has: compiling the .po ourselves and adding the rest in ours puts every string in Chinese
    (issue 12 point 6)."""
    import flask_admin.translations as fa_translations
    theirs = Path(fa_translations.__path__[0])
    for lang in languages:
        sources = [src / lang / "LC_MESSAGES" / f"{ADMIN_DOMAIN}.po" for src in (theirs, Path(ours))]
        sources = [s for s in sources if s.exists()]
        if not sources:
            continue
        mo = cache_root / lang / "LC_MESSAGES" / f"{ADMIN_DOMAIN}.mo"
        if mo.exists() and all(mo.stat().st_mtime >= s.stat().st_mtime for s in sources):
            continue
        catalog = None
        for src in sources:
            with src.open("rb") as fh:
                part = read_po(fh, locale=lang)
            if catalog is None:
                catalog = part
                continue
            for message in part:
                if message.id and message.string:
                    catalog[message.id] = message
        mo.parent.mkdir(parents=True, exist_ok=True)
        tmp = mo.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog)
        tmp.replace(mo)
    return str(cache_root)


def init_babel(app, extra_dirs: list[str]):
    cache = Path(app.config["INSTANCE_PATH"]) / ".cache" / "locale"
    dirs = compile_catalogs([CORE_LOCALE_DIR, *map(Path, extra_dirs)], cache)
    app.config["ADMIN_TRANSLATIONS_PATH"] = compile_admin_catalogs(app.config["LANGUAGES"], cache / ADMIN_DOMAIN)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(dirs)
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["DEFAULT_LOCALE"]
    from .db import TZ
    app.config["BABEL_DEFAULT_TIMEZONE"] = TZ.key   # dates in templates: the zone times are stored in
    Babel(app, locale_selector=select_locale)


def template_gettext() -> dict:
    """``gettext``/``ngettext``/``pgettext``/``npgettext`` for one render, bound to the request's catalog.

    Flask-Babel's template callables look the catalog up again for every ``_()`` (request context,
    domain, locale: ~15 context-local lookups each). Given to the template context (which the i18n
    extension's ``_`` and ``{% trans %}`` resolve first), the lookup is done once per render. Same
    semantics as Jinja's new-style gettext: autoescape-aware and always %-formatted."""
    from flask_babel import get_translations
    from jinja2 import pass_context
    from markupsafe import Markup
    t = get_translations()

    def _finish(ctx, rv, variables):
        if ctx.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    @pass_context
    def gettext(__context, __string, **variables):
        return _finish(__context, t.ugettext(__string), variables)

    @pass_context
    def ngettext(__context, __singular, __plural, __num, **variables):
        variables.setdefault("num", __num)
        return _finish(__context, t.ungettext(__singular, __plural, __num), variables)

    @pass_context
    def pgettext(__context, __ctx, __string, **variables):
        return _finish(__context, t.upgettext(__ctx, __string), variables)

    @pass_context
    def npgettext(__context, __ctx, __singular, __plural, __num, **variables):
        variables.setdefault("num", __num)
        return _finish(__context, t.unpgettext(__ctx, __singular, __plural, __num), variables)

    return {"gettext": gettext, "ngettext": ngettext, "pgettext": pgettext, "npgettext": npgettext}


MANIFEST_KEYS = ("title", "summary", "category")


def extract_manifest(fileobj, keywords, comment_tags, options):
    """Babel extractor for ``__manifest__.py``: its title, summary and category are translatable."""
    import ast
    data = ast.literal_eval(fileobj.read().decode("utf-8"))
    for key in MANIFEST_KEYS:
        if isinstance(data.get(key), str) and data[key]:
            yield 1, None, data[key], [f"manifest {key}"]
    for key, meta in (data.get("settings_meta") or {}).items():  # labels, help and choices of settings
        texts = [meta.get("label"), meta.get("help")] + [c[1] for c in meta.get("choices") or []]
        for text in texts:
            if isinstance(text, str) and text:
                yield 1, None, text, [f"setting {key}"]


ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "lazy_ngettext": (1, 2), "_gettext": None}


def extract_template(root: Path = ROOT):
    """Extract every translatable string of core and the built-in plugins (as ``pybabel extract``)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg
    with open(root / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update(KEYWORDS)
    template = Catalog(project="timebank", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(root), method_map, options_map, keywords=keywords, strip_comment_tags=True):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def update_catalog(locale: str = "zh_Hans_CN", root: Path = ROOT) -> tuple[Path, list[str]]:
    """Merge new strings into ``locale/<locale>/LC_MESSAGES/messages.po`` keeping translations;
    return the file and the msgids still untranslated."""
    from babel.messages.pofile import write_po
    template = extract_template(root)
    po = root / "locale" / locale / "LC_MESSAGES" / "messages.po"
    if po.exists():
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        catalog.update(template, no_fuzzy_matching=True)
    else:
        from babel.messages.catalog import Catalog
        catalog = Catalog(locale=locale, project="timebank", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
    po.parent.mkdir(parents=True, exist_ok=True)
    with po.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, sort_output=False, ignore_obsolete=True)
    missing = [m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and not m.string
               or (m.id and isinstance(m.string, tuple) and not all(m.string))]
    return po, missing
