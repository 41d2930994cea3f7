"""Public API of the archives plugin (档案管理, R-ARC-1…3). Other plugins add documents to an activity's
archive through the declared hook ``archive_documents(activity)`` (hookspecs.py), not by calling these.

- ``create_file``, ``add_document``, ``close_file``, ``add_chronicle``, ``search``, ``read``: the catalogue
  (catalogue.py);
- ``cover_pdf``, ``contents_pdf``: 案卷封面 and 卷内目录;
- ``file_activity``: the 活动档案 of an activity (filing.py);
- ``verify``: every stored document against its SHA-256 (``timebank check``);
- ``lend``, ``on_loan``: the borrowing register (loans.py, R-ARC-4); ``apply_destruction``: a destruction's
  application (destruction.py, R-ARC-5); ``report_loss``, ``hand_over``: custody (custody.py, R-ARC-6)."""
from .catalogue import (add_chronicle, add_document, close_file, contents_pdf, cover_pdf, create_file,  # noqa: F401
                        disposal_date, kind, load_kinds, overdue, read, search, verify)
from .filing import file_activity, file_finished  # noqa: F401
from .storage import StorageError  # noqa: F401
from .custody import hand_over, report_loss  # noqa: F401
from .destruction import apply as apply_destruction  # noqa: F401
from .loans import current as on_loan, lend  # noqa: F401
