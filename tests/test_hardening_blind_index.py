"""A dump of the database must not tell who is a Party member (SECURITY.md NS5; issue 11 point 7).

Before: ``political_hash`` (a deterministic keyed hash of 7 possible political statuses) and
``in_service_hash`` (one value for every in-service Party member) sat in indexed columns, so counting equal
hashes in a dump or backup grouped the volunteers by political status; the ciphertext of the status had
the status's length, the in-service date and the Party-member pledge were empty exactly for those who
were not Party members, and the audit log named the pledge. Now the status, the religion, the in-service
date and the pledge time are sealed (core.crypto.SealedField: one ciphertext length for every row, the
empty value encrypted too) with no index, and the targets report decrypts the statuses of the volunteers
in its scope (volunteers.services.political_standing).

On SQLite and PostgreSQL: every column of every table is read through SQL (and the SQLite files' bytes, or
``pg_dump``), and no column — by its values, their length or their emptiness — marks off exactly the
volunteers of one political status, the Party members, the Party-track volunteers or the in-service Party
members.
"""
from __future__ import annotations

import datetime as _dt
import os
import shutil
import subprocess

import pytest

from conftest import PG_URL
from plugins.volunteers import fakes

PLUGINS = ["volunteers", "teams", "documents", "activities", "targets"]
PARTY = ("中共党员", "中共预备党员")
TRACK = ("入党积极分子", "发展对象", "中共预备党员")
# (political status, in service?, religion): two or more of each status, so each is a group to look for
PEOPLE = [("中共党员", True, ""), ("中共党员", False, ""), ("中共党员", False, "佛教"),
          ("中共预备党员", True, ""), ("中共预备党员", False, ""),
          ("发展对象", False, ""), ("发展对象", False, "基督教"),
          ("入党积极分子", False, ""), ("入党积极分子", False, ""),
          ("共青团员", False, ""), ("共青团员", False, "佛教"),
          ("民主党派", False, ""), ("民主党派", False, ""),
          ("群众", False, ""), ("群众", False, ""), ("群众", False, "伊斯兰教"),
          ("", False, "佛教"), ("", False, "道教")]
# statuses in plain that appear in no other text of the site (群众 does: the activity category 群众文体)
PLAIN = ["中共预备党员".encode(), "入党积极分子".encode()]
IMPORTED = [("中共党员", "是"), ("中共预备党员", "是"), ("群众", ""), ("入党积极分子", ""), ("共青团员", "")]


@pytest.fixture
def site(make_app):
    return make_app(plugins=PLUGINS)


def _register_everyone(app) -> dict[int, tuple[str, bool]]:
    """Volunteers of every status through the real paths: registration, a profile change and the
    bulk import (its own insert path). Returns id → (status, in service)."""
    from plugins.volunteers import import_, services as vs
    out = {}
    with app.test_request_context():
        for i, (status, in_service, religion) in enumerate(PEOPLE):
            data = {"name": f"志愿者{i:02d}", "id_type": "cn_id", "id_number": fakes.id_number(seq=301 + 2 * i),
                    "phone": f"139{i:08d}", "agreement": True, "sensitive_consent": True,
                    "political_status": status if status != "中共党员" or i else "群众", "religion": religion}
            if data["political_status"] in PARTY:
                data["pledge"] = True
            if in_service and i:
                data["in_service_reported_on"] = "2025-03-01"
            v = vs.register(data, create_account=False)
            out[v.id] = (data["political_status"], bool(data.get("in_service_reported_on")))
        # the first one becomes an in-service Party member through their profile (audited change)
        first = min(out)
        from plugins.volunteers.models import Volunteer
        vs.update_profile(Volunteer.get_by_id(first), {"political_status": "中共党员", "pledge": True,
                                                       "in_service_reported_on": "2024-05-01"})
        out[first] = ("中共党员", True)
        records = [{"name": f"导入者{i:02d}", "id_type": "cn_id", "id_number": fakes.id_number(seq=401 + 2 * i),
                    "phone": f"137{i:08d}", "political_status": s, "sensitive_consent": "是", "pledge": p}
                   for i, (s, p) in enumerate(IMPORTED)]
        result = import_.import_records(records)
        assert result.count("imported") == len(IMPORTED), [(o.status, [str(m) for m in o.messages]) for o in result.rows]
        for v in Volunteer.select().where(Volunteer.name.startswith("导入者")):
            out[v.id] = (v.political_status, False)
    return out


def _groups(people: dict[int, tuple[str, bool]]) -> dict[str, set[int]]:
    groups = {"Party members": {i for i, (s, _) in people.items() if s in PARTY},
              "Party-track volunteers": {i for i, (s, _) in people.items() if s in TRACK},
              "in-service Party members": {i for i, (s, ins) in people.items() if ins}}
    for status in {s for s, _ in people.values()}:
        groups[f"status {status or '(none)'}"] = {i for i, (s, _) in people.items() if s == status}
    return {k: g for k, g in groups.items() if 2 <= len(g) < len(people)}


def _marks(values: dict[int, object], group: set[int]) -> str | None:
    """How the column's values single out ``group`` (same value / length / emptiness inside it, none
    of the others sharing it), or None."""
    features = {"value": lambda x: x, "length": lambda x: len(str(x)) if x is not None else -1,
                "emptiness": lambda x: x in (None, "", b"")}
    for name, f in features.items():
        inside = {repr(f(values[i])) for i in group}
        outside = {repr(f(v)) for i, v in values.items() if i not in group}
        if len(inside) == 1 and not inside & outside:
            return name
    return None


def _leaks(app, people) -> list[str]:
    """Every (table, column, feature, group) of the database that singles out a group: the volunteers
    table by row; any other table's rows that name a volunteer (the audit log's object, a foreign key
    volunteer_id) as one text per volunteer."""
    from core.db import db
    groups = _groups(people)
    found = []
    with app.app_context():
        for table in db.get_tables():
            cur = db.execute_sql(f'SELECT * FROM "{table}"')
            cols = [d[0] for d in cur.description]
            rows = cur.fetchall()
            columns: dict[str, dict[int, object]] = {}
            if table == "volunteers_volunteer":
                for r in rows:
                    vid = r[cols.index("id")]
                    for c, x in zip(cols, r):
                        if c != "id" and vid in people:
                            columns.setdefault(c, {})[vid] = x
            else:
                key = ("object_id" if table == "core_audit_log" else
                       "volunteer_id" if "volunteer_id" in cols else None)
                if key is None:
                    continue
                per: dict[int, list[str]] = {}
                for r in rows:
                    d = dict(zip(cols, r))
                    if table == "core_audit_log" and d["object_type"] != "volunteers_volunteer":
                        continue
                    try:
                        vid = int(d[key])
                    except (TypeError, ValueError):
                        continue
                    per.setdefault(vid, []).append("|".join(f"{c}={d[c]}" for c in cols
                                                           if c not in ("id", "at", key)))
                columns["all columns"] = {i: "\n".join(sorted(per.get(i, []))) for i in people}
            for c, values in columns.items():
                if len(values) != len(people):
                    continue
                for gname, group in groups.items():
                    how = _marks(values, group)
                    if how:
                        found.append(f"{table}.{c} ({how}) marks the {gname}")
    return found


def _hash_needles(app) -> list[bytes]:
    """The blind indexes the old schema stored: they must appear nowhere."""
    from core.crypto import blind_index
    from plugins.volunteers.models import POLITICAL_STATUSES
    with app.app_context():
        return ([blind_index(s, "volunteer.political").encode() for s in POLITICAL_STATUSES]
                + [blind_index("reported", "volunteer.in_service").encode()])


def test_ns5_no_column_of_any_table_groups_the_volunteers_by_political_status(site):
    """issue 11 point 7: SQL over every column of every table; the status, its length, its emptiness."""
    people = _register_everyone(site)
    assert sum(s in PARTY for s, _ in people.values()) >= 6 and sum(i for _, i in people.values()) == 2
    assert _leaks(site, people) == []
    from core.db import db
    with site.app_context():
        cols = {c.name for c in db.get_columns("volunteers_volunteer")}
        lengths = db.execute_sql("SELECT DISTINCT LENGTH(political_status), LENGTH(in_service_reported_on), "
                                 "LENGTH(pledge_accepted_at), LENGTH(religion) FROM volunteers_volunteer").fetchall()
        sealed = db.execute_sql("SELECT political_status, in_service_reported_on, pledge_accepted_at, religion "
                                "FROM volunteers_volunteer").fetchall()
    assert not {"political_hash", "in_service_hash"} & cols
    assert len(lengths) == 1, lengths       # one ciphertext length per sealed column, empty values included
    for column in zip(*sealed):             # a fresh nonce in every row, also for the bulk import's defaults
        assert len(set(column)) == len(sealed)
    # ... and the records still read back right
    from plugins.volunteers.models import Volunteer
    with site.app_context():
        for v in Volunteer.select():
            status, in_service = people[v.id]
            assert v.political_status == status and v.is_in_service_party_member == in_service
            assert (v.pledge_accepted_at is not None) == (status in PARTY)
            assert v.pledge_accepted_at is None or isinstance(v.pledge_accepted_at, _dt.datetime)


@pytest.mark.skipif(bool(PG_URL), reason="the SQLite files; PostgreSQL's dump is below")
def test_ns5_sqlite_files_hold_no_status_hash_or_plain_status(site):
    people = _register_everyone(site)
    db_file = site.config["DATABASE_URL"].removeprefix("sqlite:///")
    blob = b"".join(open(p, "rb").read() for p in (db_file, db_file + "-wal") if os.path.exists(p))
    assert "志愿者01".encode() in blob                      # the scan sees plain text
    for needle in _hash_needles(site) + PLAIN:
        assert needle not in blob, needle


@pytest.mark.skipif(not PG_URL, reason="needs TIMEBANK_TEST_DATABASE_URL (PostgreSQL)")
def test_ns5_postgres_dump_holds_no_status_hash_or_plain_status(site):
    if not shutil.which("pg_dump"):
        pytest.skip("pg_dump not installed")
    people = _register_everyone(site)
    dump = subprocess.run(["pg_dump", "--data-only", "--inserts", PG_URL], capture_output=True, check=True).stdout
    assert "志愿者01".encode() in dump
    for needle in _hash_needles(site) + PLAIN:
        assert needle not in dump, needle


def test_ns5_political_standing_decrypts_in_bulk_for_the_ids_asked(site, monkeypatch):
    """The volunteers plugin's API for reports: (id, status, in service) of exactly the ids asked, in
    queries of STANDING_CHUNK ids."""
    people = _register_everyone(site)
    from plugins.volunteers import services as vs
    monkeypatch.setattr(vs, "STANDING_CHUNK", 4)
    asked = sorted(people)[1:] + [10 ** 9]          # one left out, one that does not exist
    with site.app_context():
        got = {vid: (s, ins) for vid, s, ins in vs.political_standing(asked)}
    assert got == {i: people[i] for i in sorted(people)[1:]}
    with site.app_context():
        assert list(vs.political_standing([])) == []


def test_ns5_migration_seals_an_existing_site(site):
    """A site from before 0004: the two blind-index columns with their indexes and hashes, unpadded
    ciphertexts, "" for empty values, the pledge as a plain timestamp. The migration drops the columns,
    seals every value (all still readable), leaves no old hash in the SQLite files, and the targets
    report still counts the Party-track and in-service Party members."""
    people = _register_everyone(site)
    from playhouse.migrate import SchemaMigrator, migrate
    from core import plugins as P
    from core.crypto import BlindIndexField, blind_index, keyring
    from core.db import DateTimeTZField, db, is_sqlite
    from plugins.volunteers.models import Volunteer
    T = "volunteers_volunteer"
    with site.app_context():
        before = {v.id: (v.political_status, v.religion, v.in_service_reported_on, v.pledge_accepted_at)
                  for v in Volunteer.select()}
        m = SchemaMigrator.from_database(db.obj)
        migrate(m.add_column(T, "political_hash", BlindIndexField(index=True, default="")),
                m.add_column(T, "in_service_hash", BlindIndexField(index=True, default="")),
                m.drop_column(T, "pledge_accepted_at"),
                m.add_column(T, "pledge_accepted_at", DateTimeTZField(null=True)))
        p = db.obj.param
        ring = keyring()
        old = lambda value, ctx: ring.encrypt(value, ctx) if value else ""  # noqa: E731 - the old EncryptedField
        for vid, (status, religion, reported, pledged) in before.items():
            db.execute_sql(
                f'UPDATE "{T}" SET political_status = {p}, political_hash = {p}, religion = {p}, '
                f'in_service_reported_on = {p}, in_service_hash = {p}, pledge_accepted_at = {p} WHERE id = {p}',
                (old(status, "volunteer.political_status"),
                 blind_index(status, "volunteer.political") if status else "",
                 old(religion, "volunteer.religion"), old(reported, "volunteer.in_service"),
                 blind_index("reported", "volunteer.in_service") if reported else "",
                 DateTimeTZField().db_value(pledged), vid))
        assert _leaks(site, people)                          # the old schema does leak: the test sees it
        db.execute_sql('DELETE FROM "migrations_volunteers" WHERE name = %s' % p, ("0004_seal_political_status",))
        available, _ = P.discover()
        assert P.migrate_plugin(available["volunteers"]) == ["0004_seal_political_status"]
        assert P.migrate_plugin(available["volunteers"]) == []
        cols = {c.name for c in db.get_columns(T)}
        assert not {"political_hash", "in_service_hash"} & cols
        assert not [i.name for i in db.get_indexes(T) if "hash" in i.name and "id_hash" not in i.name
                    and "phone_hash" not in i.name]
        after = {v.id: (v.political_status, v.religion, v.in_service_reported_on, v.pledge_accepted_at)
                 for v in Volunteer.select()}
    for vid, (status, religion, reported, pledged) in before.items():
        a = after[vid]
        assert a[:3] == (status, religion, reported)
        assert (a[3] is None) == (pledged is None)
        assert pledged is None or abs((a[3] - pledged).total_seconds()) < 1
    assert _leaks(site, people) == []
    if is_sqlite():
        db_file = site.config["DATABASE_URL"].removeprefix("sqlite:///")
        blob = b"".join(open(f, "rb").read() for f in (db_file, db_file + "-wal") if os.path.exists(f))
        for needle in _hash_needles(site):
            assert needle not in blob, needle
    # the yearly report still finds the categories (R-PARTY-2, R-PARTY-3)
    from core.models import User
    from core.security import PLATFORM_ADMIN, grant_role, hash_password
    from plugins.targets import services as targets
    with site.test_request_context():
        admin = User.create(username="ns5_admin", password_hash=hash_password("ns5 admin password 1"))
        grant_role(admin, PLATFORM_ADMIN)
        rep = targets.report(admin, _dt.date.today().year)
        cats = {r.volunteer_id: r.category for r in rep.rows}
    for vid, (status, in_service) in people.items():
        want = ("party_track" if status in TRACK else "in_service" if status in PARTY and in_service
                else "registered")
        assert cats[vid] == want, (status, in_service)
