"""Checks for files attached to findings: count, size and the real type (sniffed, not the file name)."""

import hashlib

import filetype
from django.conf import settings
from django.utils.translation import gettext as _

from .workflow import TransitionError

ALLOWED_TYPES = {
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/msword",
    "application/vnd.ms-excel",
    "audio/mpeg",
    "audio/x-wav",
    "audio/amr",
    "audio/mp4",
    "video/mp4",
}


def attachments_check(files: list, *, field: str = "attachments") -> list[dict]:
    """Validate uploads; returns [{"file", "name", "content_type", "size", "sha256"}] or raises TransitionError."""
    files = [f for f in (files or []) if f]
    if len(files) > settings.ATTACHMENT_MAX_FILES:
        raise TransitionError.field(field, _("附件最多 %(n)s 个。") % {"n": settings.ATTACHMENT_MAX_FILES})
    total = 0
    out = []
    for upload in files:
        size = upload.size or 0
        total += size
        name = (getattr(upload, "name", "") or "file").rsplit("/", 1)[-1][:200]
        if size > settings.ATTACHMENT_MAX_BYTES:
            raise TransitionError.field(
                field,
                _("附件“%(name)s”超过 %(mb)s MB。")
                % {"name": name, "mb": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)},
            )
        upload.seek(0)
        head = upload.read(8192)
        kind = filetype.guess(head)
        if kind is None or kind.mime not in ALLOWED_TYPES:
            raise TransitionError.field(
                field,
                _("附件“%(name)s”的类型不受支持（可上传图片、PDF、Word、Excel、音视频）。") % {"name": name},
            )
        upload.seek(0)
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        out.append(
            {
                "file": upload,
                "name": name,
                "content_type": kind.mime,
                "size": size,
                "sha256": digest.hexdigest(),
            }
        )
    if total > settings.ATTACHMENT_MAX_TOTAL_BYTES:
        raise TransitionError.field(
            field,
            _("附件合计超过 %(mb)s MB。") % {"mb": settings.ATTACHMENT_MAX_TOTAL_BYTES // (1024 * 1024)},
        )
    return out
