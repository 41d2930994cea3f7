"""Where document bytes live: a folder in the instance (``instance/archives/``) by default, or an
S3-compatible bucket when the site's config names one (``ARCHIVES_S3_BUCKET``, ``ARCHIVES_S3_ENDPOINT``,
``ARCHIVES_S3_ACCESS_KEY``, ``ARCHIVES_S3_SECRET_KEY``, ``ARCHIVES_S3_REGION``; keys come from the config,
never from the database). A key is written once: ``put`` refuses an existing key (never overwritten)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from flask import current_app


class StorageError(Exception):
    pass


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FolderStorage:
    name = "folder"

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        p = (self.root / key).resolve()
        if self.root.resolve() not in p.parents:
            raise StorageError(f"bad key {key!r}")
        return p

    def put(self, key: str, data: bytes) -> None:
        p = self._path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(p, "xb") as fh:          # exclusive: an existing document is never overwritten
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        except FileExistsError:
            raise StorageError(f"{key} exists") from None

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        """Removes a document's bytes (R-ARC-5 destruction): overwritten with zeros, then unlinked."""
        p = self._path(key)
        try:
            size = p.stat().st_size
            with open(p, "r+b") as fh:
                fh.write(b"\0" * size)
                fh.flush()
                os.fsync(fh.fileno())
            p.unlink()
        except FileNotFoundError:
            pass

    def path(self, key: str) -> Path:
        return self._path(key)


class S3Storage:
    name = "s3"

    def __init__(self, bucket: str, endpoint: str | None = None, access_key: str | None = None,
                 secret_key: str | None = None, region: str | None = None):
        import boto3
        self.bucket = bucket
        self.client = boto3.client("s3", endpoint_url=endpoint or None, aws_access_key_id=access_key or None,
                                   aws_secret_access_key=secret_key or None, region_name=region or "us-east-1")

    def _exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def put(self, key: str, data: bytes) -> None:
        if self._exists(key):
            raise StorageError(f"{key} exists")
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise


    def delete(self, key: str) -> None:
        """Removes a document's object (R-ARC-5 destruction); a missing key is not an error."""
        self.client.delete_object(Bucket=self.bucket, Key=key)


def folder_root() -> Path:
    return Path(current_app.instance_path) / "archives"


def backend(name: str | None = None):
    """The storage for new documents (``name`` None) or the one a document was stored in."""
    cfg = current_app.config
    bucket = cfg.get("ARCHIVES_S3_BUCKET")
    if name == "s3" or (name is None and bucket):
        if not bucket:
            raise StorageError("ARCHIVES_S3_BUCKET is not configured")
        return S3Storage(bucket, cfg.get("ARCHIVES_S3_ENDPOINT"), cfg.get("ARCHIVES_S3_ACCESS_KEY"),
                         cfg.get("ARCHIVES_S3_SECRET_KEY"), cfg.get("ARCHIVES_S3_REGION"))
    return FolderStorage(folder_root())
