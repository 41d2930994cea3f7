import peewee as pw

from core.db import BaseModel, DateTimeTZField, now


class Notice(BaseModel):
    title = pw.CharField(max_length=200)
    body = pw.TextField(default="")
    published = pw.BooleanField(default=True, index=True)
    published_at = DateTimeTZField(default=now, index=True)
    author_id = pw.IntegerField(null=True)

    class Meta:
        table_name = "notices_notice"

    def __str__(self):
        return self.title
