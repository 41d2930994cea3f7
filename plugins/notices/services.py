"""Public API of the notices plugin: other plugins call these, never the models directly."""
from dataclasses import dataclass

from core import audit, events
from core.db import compiled, now, transaction

from .models import Notice


@dataclass
class NoticePublished(events.Event):
    name = "notices.published"
    notice_id: int = 0
    title: str = ""


def publish(title: str, body: str = "", author=None) -> Notice:
    title = (title or "").strip()
    if not title:
        raise ValueError("title is required")
    with transaction():
        n = Notice.create(title=title[:200], body=body, published=True, published_at=now(),
                          author_id=getattr(author, "id", None))
        audit.log("notice.published", n)
        events.emit(NoticePublished(notice_id=n.id, title=n.title))
    return n


def latest(limit: int = 10):
    return list(Notice.select().where(Notice.published == True)  # noqa: E712
                .order_by(Notice.published_at.desc()).limit(limit))


@compiled
def _public(notice_id):
    return Notice.select().where((Notice.id == notice_id) & (Notice.published == True))  # noqa: E712


def get_public(notice_id: int):
    return _public.first(notice_id=notice_id)
