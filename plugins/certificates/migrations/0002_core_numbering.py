"""Certificate numbers move onto ``core.numbering`` (issue 13 shapes: numbered documents, LG7).

Before: the plugin's own table ``certificates_counter`` held one row ``certificate:<year>`` with the
last number given that year. After: the kernel's ``core_number_sequence`` row (kind
``certificates.certificate``, year) continues from the highest number already given — the counter's
value or, if higher, the highest ``ZM<year><6 digits>`` a certificate carries — so the next certificate
gets the number it would have got before, and no number is given twice. The old table is dropped.
"""
import re

LEGACY = "certificates_counter"
KIND = "certificates.certificate"


def up(migrator, db):
    from core import numbering
    highest: dict[int, int] = {}
    tables = set(db.get_tables())
    if LEGACY in tables:
        for name, value in db.execute_sql(f'SELECT name, value FROM "{LEGACY}"').fetchall():
            m = re.fullmatch(r"certificate:(\d{4})", str(name))
            if m:
                highest[int(m[1])] = max(highest.get(int(m[1]), 0), int(value or 0))
    for (number,) in db.execute_sql(
            "SELECT number FROM certificates_certificate WHERE number IS NOT NULL").fetchall():
        m = re.search(r"(\d{4})(\d{6})$", str(number))
        if m:
            highest[int(m[1])] = max(highest.get(int(m[1]), 0), int(m[2]))
    for year, value in sorted(highest.items()):
        numbering.seed(KIND, value, year=year)
    if LEGACY in tables:
        db.execute_sql(f'DROP TABLE "{LEGACY}"')
