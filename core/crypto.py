"""Encryption of personal data at rest (SECURITY.md PR1, PR2; R-PRIV-2).

- ``EncryptedField``: AES-256-GCM ciphertext in a text column, ``v1:<key id>:<nonce+ciphertext, base64>``.
  The keys live outside the database, in ``instance/keys.json`` (generated, mode 600) or
  ``TIMEBANK_DATA_KEYS``; the newest key encrypts, every listed key decrypts, so keys can be rotated:
  add a key (``timebank keys rotate``), re-encrypt, then retire the old one.
- ``SealedField`` / ``SealedDateTimeField``: an ``EncryptedField`` for a value with few possible values
  (a status, a yes/no, a date that only some people have): every row holds a ciphertext of the same
  length, the empty value included, so that neither equality, emptiness nor length of what is stored
  groups the people it describes (SECURITY.md NS5).
- ``BlindIndexField``: a keyed HMAC-SHA256 of the normalised value, for uniqueness and exact-match lookup
  without storing the plain value. Its key is separate and is not rotated with the data keys. Only for
  values that are (nearly) unique per person — an ID or phone number: a blind index of a value shared by
  many people (a political status) is a label that counts them in any dump (NS5).
"""
from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

import peewee as pw
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1"


class KeyError_(Exception):
    """The data keys are missing or cannot decrypt a value."""


class Keyring:
    def __init__(self, keys: dict[str, bytes], primary: str, index_key: bytes, source: str = "file"):
        if primary not in keys:
            raise KeyError_(f"primary data key {primary!r} is not in the keyring")
        self.keys = keys
        self.primary = primary
        self.index_key = index_key
        self.source = source  # "file" (instance/keys.json) or "env" (TIMEBANK_DATA_KEYS)
        self._aead: dict[str, AESGCM] = {}   # one cipher object per key: bulk decryption ~2x faster

    @classmethod
    def from_dict(cls, data: dict) -> "Keyring":
        keys = {k: base64.urlsafe_b64decode(v) for k, v in data["keys"].items()}
        return cls(keys, data["primary"], base64.urlsafe_b64decode(data["index_key"]))

    def to_dict(self) -> dict:
        enc = lambda b: base64.urlsafe_b64encode(b).decode()  # noqa: E731
        return {"primary": self.primary, "keys": {k: enc(v) for k, v in self.keys.items()},
                "index_key": enc(self.index_key)}

    def encrypt(self, plain: str, context: str = "") -> str:
        nonce = secrets.token_bytes(12)
        ct = AESGCM(self.keys[self.primary]).encrypt(nonce, plain.encode("utf-8"), context.encode())
        return f"{PREFIX}:{self.primary}:{base64.urlsafe_b64encode(nonce + ct).decode()}"

    def decrypt(self, token: str, context: str = "") -> str:
        try:
            prefix, kid, data = token.split(":", 2)
        except ValueError:
            raise KeyError_("value is not an encrypted token") from None
        if prefix != PREFIX or kid not in self.keys:
            raise KeyError_(f"no data key {kid!r} to decrypt this value")
        raw = base64.urlsafe_b64decode(data)
        aead = self._aead.get(kid)
        if aead is None:
            aead = self._aead[kid] = AESGCM(self.keys[kid])
        return aead.decrypt(raw[:12], raw[12:], context.encode()).decode("utf-8")

    def key_id_of(self, token: str) -> str:
        return token.split(":", 2)[1]

    def blind_index(self, normalised: str, purpose: str) -> str:
        return hmac.new(self.index_key, f"{purpose}\x00{normalised}".encode(), hashlib.sha256).hexdigest()


_keyring: Keyring | None = None


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def load_keyring(instance: Path) -> Keyring:
    """Keys from ``TIMEBANK_DATA_KEYS`` (JSON) or ``instance/keys.json``, generated on first use."""
    global _keyring
    env = os.environ.get("TIMEBANK_DATA_KEYS")
    if env:
        _keyring = Keyring.from_dict(json.loads(env))
        _keyring.source = "env"
        return _keyring
    f = Path(instance) / "keys.json"
    if f.exists():
        _keyring = Keyring.from_dict(json.loads(f.read_text()))
        return _keyring
    kid = "k1"
    ring = Keyring({kid: new_key()}, kid, secrets.token_bytes(32))
    save_keyring(ring, instance)
    _keyring = ring
    return ring


def save_keyring(ring: Keyring, instance: Path):
    f = Path(instance) / "keys.json"
    tmp = f.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(ring.to_dict(), fh)
    tmp.replace(f)


def keyring() -> Keyring:
    if _keyring is None:
        raise KeyError_("the data keyring is not loaded (create_app loads it)")
    return _keyring


def rotate(instance: Path) -> str:
    """Add a new primary key; older keys keep decrypting until values are re-encrypted.
    Keys given in ``TIMEBANK_DATA_KEYS`` are refused: the new key would be written to keys.json, which
    the next start does not read, and data encrypted under it would be lost."""
    ring = keyring()
    if getattr(ring, "source", "") == "env":
        raise KeyError_("the data keys come from TIMEBANK_DATA_KEYS: add a new key there yourself "
                        "(and make it the primary), restart, then re-encrypt; keys.json is not used")
    n = max(int(k[1:]) for k in ring.keys if k[1:].isdigit()) + 1 if ring.keys else 1
    kid = f"k{n}"
    ring.keys[kid] = new_key()
    ring.primary = kid
    save_keyring(ring, instance)
    return kid


class EncryptedField(pw.TextField):
    """Stores ``str`` values encrypted (AES-GCM); reads return the plain value. ``None`` stays NULL.
    Never filter or sort on it: use a BlindIndexField beside it for lookups."""
    fresh_each_row = True  # bulk inserts encrypt every row anew (a nonce is never reused)

    def __init__(self, *args, context: str = "", **kwargs):
        self.context = context
        super().__init__(*args, **kwargs)

    def db_value(self, value):
        if value is None or value == "":
            return value
        return keyring().encrypt(str(value), self.context or self.name or "")

    def python_value(self, value):
        if value is None or value == "":
            return value
        return keyring().decrypt(value, self.context or self.name or "")


class SealedField(EncryptedField):
    """An ``EncryptedField`` for low-cardinality sensitive values (SECURITY.md NS5): the value, the empty
    one included, is padded with NUL to ``size`` bytes (a longer value to a multiple of it) and always
    encrypted, so every row holds a ciphertext of the same length and nothing stored tells who has which
    value, or any value at all. Reads return ``""`` for the empty value (also for rows written before
    the field was sealed: ``""``, NULL or an unpadded ciphertext). Never filter on it: select the rows
    by something else and decrypt them (the values of a few thousand rows decrypt in milliseconds)."""

    seals_empty = True  # bulk inserts (core.db.row_tuples) seal a missing or None value in every row anew

    def __init__(self, *args, size: int = 32, **kwargs):
        self.size = size
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def seal(self, plain: str) -> str:
        plain = plain.replace("\x00", "")
        n = len(plain.encode("utf-8"))
        padded = max(self.size, -(-n // self.size) * self.size)
        return plain + "\x00" * (padded - n)

    def db_value(self, value):
        return keyring().encrypt(self.seal("" if value is None else str(value)), self.context or self.name or "")

    def python_value(self, value):
        if value is None or value == "":
            return ""
        return keyring().decrypt(value, self.context or self.name or "").rstrip("\x00")


def _none():
    return None


class SealedDateTimeField(SealedField):
    """A ``SealedField`` holding an aware datetime (ISO 8601 with its offset), ``None`` when empty: a
    timestamp that only some people have (the Party-member pledge) would otherwise mark them by being
    set."""

    def __init__(self, *args, **kwargs):
        # a callable default, so that peewee writes the (sealed) empty value instead of leaving NULL
        kwargs.setdefault("default", _none)
        kwargs.setdefault("null", True)
        super().__init__(*args, **kwargs)

    def db_value(self, value):
        if isinstance(value, _dt.datetime):
            value = value.isoformat()
        return super().db_value(value or "")

    def python_value(self, value):
        from .db import TZ
        plain = super().python_value(value)
        return _dt.datetime.fromisoformat(plain).astimezone(TZ) if plain else None


class BlindIndexField(pw.CharField):
    """HMAC of the normalised value (64 hex chars). Assign ``blind_index(value, purpose)``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(*args, **kwargs)


def blind_index(value: str, purpose: str) -> str:
    return keyring().blind_index(value, purpose)


def reencrypt(model, fields: list[str], batch: int = 500) -> int:
    """Re-encrypt ``fields`` of every row of ``model`` under the primary key (after ``rotate``).
    Reads the raw ciphertext, so rows already on the primary key are left alone. Returns rows changed."""
    from .db import db, transaction
    ring = keyring()
    table = model._meta.table_name
    pk = model._meta.primary_key
    cols = [model._meta.fields[f].column_name for f in fields]
    p = db.obj.param
    changed, last = 0, None
    while True:
        where = f' WHERE "{pk.column_name}" > {p}' if last is not None else ""
        sql = (f'SELECT "{pk.column_name}", ' + ", ".join(f'"{c}"' for c in cols) +
               f' FROM "{table}"{where} ORDER BY "{pk.column_name}" LIMIT {int(batch)}')
        rows = db.execute_sql(sql, (last,) if last is not None else ()).fetchall()
        if not rows:
            return changed
        with transaction():
            for row in rows:
                stale = {}
                for f, raw in zip(fields, row[1:]):
                    if raw and ring.key_id_of(raw) != ring.primary:
                        stale[f] = ring.decrypt(raw, model._meta.fields[f].context or f)
                if stale:
                    model.update(**stale).where(pk == row[0]).execute()
                    changed += 1
        last = rows[-1][0]
