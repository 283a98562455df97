"""Attachments: type checked by content, size limits, and a short-lived server-side stash.

The stash keeps the files of a submission that was refused for some other field, so the informant
fixes that field and resubmits without choosing the files again. It lives under MEDIA_ROOT/stash/<token>/
(outside the web root, never served); the token is random and travels in a hidden form field.
"""

import contextlib
import hashlib
import json
import logging
import re
import secrets
import shutil
import time
import unicodedata
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from . import conf

log = logging.getLogger(__name__)

# What informants and offices send: photos, recordings, videos, PDF and office documents.
ALLOWED_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "heic": "image/heic",
    "bmp": "image/bmp",
    "tif": "image/tiff",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "wav": "audio/x-wav",
    "amr": "audio/amr",
    "ogg": "audio/ogg",
    "flac": "audio/x-flac",
    "mp4": "video/mp4",
    "m4v": "video/x-m4v",
    "mov": "video/quicktime",
    "3gp": "video/3gpp",
    "avi": "video/x-msvideo",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "wmv": "video/x-ms-wmv",
    "flv": "video/x-flv",
    "pdf": "application/pdf",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "wps": "application/vnd.ms-works",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
}
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
OLE2_EXTENSIONS = {"doc", "xls", "ppt", "wps", "et", "dps"}
ACCEPT_ATTR = "image/*,audio/*,video/*,.pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.wps,.odt,.ods,.odp"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass
class CheckedFile:
    """A file that passed the checks, ready to store: where its bytes are and what it is."""

    id: str
    name: str
    content_type: str
    extension: str
    size: int
    sha256: str
    path: str = ""  # set for stashed files; fresh uploads keep the UploadedFile in `upload`
    upload: object = None

    def open(self):
        if self.upload is not None:
            self.upload.seek(0)
            return self.upload
        return open(self.path, "rb")  # noqa: SIM115 — caller closes

    def manifest(self) -> dict:
        data = asdict(self)
        data.pop("upload")
        return data


def limits() -> dict:
    return {
        "max_files": settings.ATTACHMENT_MAX_FILES,
        "max_bytes": settings.ATTACHMENT_MAX_BYTES,
        "max_total": settings.ATTACHMENT_MAX_TOTAL_BYTES,
    }


def safe_name(name: str, extension: str) -> str:
    """A display name without paths or control characters; the real type's extension is appended when the
    given name claims another one, so a download never opens as something it is not."""
    base = Path(str(name or "")).name
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    base = base.strip().strip(".")[:150] or "file"
    suffix = base.rsplit(".", 1)[-1].lower() if "." in base else ""
    equivalents = {"jpg": {"jpg", "jpeg", "jpe"}, "tif": {"tif", "tiff"}, "mov": {"mov", "qt"}}
    if suffix not in equivalents.get(extension, {extension}) and not (
        extension in OLE2_EXTENSIONS and suffix in OLE2_EXTENSIONS
    ):
        base = f"{base}.{extension}"
    return base


def _sniff(head: bytes, fileobj, name: str) -> tuple[str, str] | None:
    """(extension, mime) from the content, or None when the type is not accepted."""
    if head.startswith(b"%PDF-") or b"%PDF-" in head[:1024]:
        return "pdf", ALLOWED_TYPES["pdf"]
    if head.startswith(OLE2_MAGIC):
        # Old Word/Excel/PowerPoint/WPS share one container format; the name picks among them.
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else "doc"
        ext = {"et": "xls", "dps": "ppt"}.get(ext, ext)
        ext = ext if ext in {"doc", "xls", "ppt", "wps"} else "doc"
        return ext, ALLOWED_TYPES[ext]
    if head.startswith(b"PK\x03\x04"):
        try:
            fileobj.seek(0)
            names = set(zipfile.ZipFile(fileobj).namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        finally:
            fileobj.seek(0)
        if "[Content_Types].xml" in names:
            for prefix, ext in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
                if any(n.startswith(prefix) for n in names):
                    return ext, ALLOWED_TYPES[ext]
        if "mimetype" in names:
            kind = filetype.guess(head)
            if kind and kind.extension in {"odt", "ods", "odp"}:
                return kind.extension, ALLOWED_TYPES[kind.extension]
        return None
    kind = filetype.guess(head)
    if kind is None or kind.extension not in ALLOWED_TYPES:
        return None
    return kind.extension, ALLOWED_TYPES[kind.extension]


def check_upload(upload) -> CheckedFile:
    """Check one uploaded file; raises ValidationError with a message naming the file."""
    name = str(getattr(upload, "name", "") or "file")
    display = Path(name).name[:80]
    size = upload.size or 0
    if size == 0:
        raise ValidationError(_("文件“%(name)s”是空文件。") % {"name": display})
    if size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            _("文件“%(name)s”太大（%(size)s）：单个文件不能超过 %(limit)s。")
            % {
                "name": display,
                "size": filesizeformat(size),
                "limit": filesizeformat(settings.ATTACHMENT_MAX_BYTES),
            }
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    sniffed = _sniff(head, upload, name)
    if sniffed is None:
        raise ValidationError(
            _("文件“%(name)s”的类型不受支持：只能上传照片、音频、视频、PDF 和 Office 文档。")
            % {"name": display}
        )
    extension, content_type = sniffed
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedFile(
        id=secrets.token_hex(8),
        name=safe_name(name, extension),
        content_type=content_type,
        extension=extension,
        size=size,
        sha256=digest.hexdigest(),
        upload=upload,
    )


def check_uploads(uploads, *, kept: list[CheckedFile] = ()) -> tuple[list[CheckedFile], list[str]]:
    """Check new uploads together with files kept from an earlier attempt.

    Returns (accepted new files, error messages). Accepted files are returned even when other files fail,
    so the caller can keep them in the stash while the informant fixes the rest.
    """
    accepted: list[CheckedFile] = []
    errors: list[str] = []
    for upload in uploads:
        try:
            accepted.append(check_upload(upload))
        except ValidationError as exc:
            errors.extend(exc.messages)
    lim = limits()
    count = len(kept) + len(accepted)
    if count > lim["max_files"]:
        errors.append(
            _("附件最多 %(limit)d 个，本次共 %(count)d 个，请删去 %(extra)d 个。")
            % {"limit": lim["max_files"], "count": count, "extra": count - lim["max_files"]}
        )
    total = sum(f.size for f in kept) + sum(f.size for f in accepted)
    if total > lim["max_total"]:
        errors.append(
            _("附件总大小 %(size)s 超过上限 %(limit)s，请删去部分文件或压缩后再上传。")
            % {"size": filesizeformat(total), "limit": filesizeformat(lim["max_total"])}
        )
    return accepted, errors


# --- stash ---------------------------------------------------------------------------------------
def _stash_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "stash"


def stash_token_new() -> str:
    return secrets.token_urlsafe(24)


def _stash_dir(token: str) -> Path | None:
    if not token or not TOKEN_RE.match(token):
        return None
    return _stash_root() / token


def stash_list(token: str) -> list[CheckedFile]:
    """The files kept under `token`, or nothing when the token is unknown, malformed or expired."""
    folder = _stash_dir(token)
    if folder is None:
        return []
    manifest = folder / "manifest.json"
    try:
        if time.time() - manifest.stat().st_mtime > conf.get("TIP_UPLOAD_STASH_SECONDS"):
            return []
        entries = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return []
    files = []
    for entry in entries:
        path = folder / entry["id"]
        if re.fullmatch(r"[0-9a-f]{16}", entry.get("id", "")) and path.is_file():
            files.append(CheckedFile(**{**entry, "path": str(path)}))
    return files


def stash_save(token: str, kept: list[CheckedFile], new: list[CheckedFile]) -> list[CheckedFile]:
    """Add freshly checked uploads to the stash; returns everything now kept under the token."""
    folder = _stash_dir(token)
    if folder is None:
        return []
    _stash_purge_expired()
    folder.mkdir(parents=True, exist_ok=True)
    saved = list(kept)
    for item in new:
        target = folder / item.id
        with open(target, "wb") as out:
            src = item.open()
            for chunk in iter(lambda src=src: src.read(1024 * 1024), b""):
                out.write(chunk)
        saved.append(CheckedFile(**{**item.manifest(), "path": str(target)}))
    (folder / "manifest.json").write_text(json.dumps([f.manifest() for f in saved], ensure_ascii=False))
    return saved


def stash_keep_only(token: str, keep_ids: set[str]) -> list[CheckedFile]:
    """Drop the stashed files the informant unticked; returns what remains."""
    files = stash_list(token)
    folder = _stash_dir(token)
    if folder is None or not files:
        return files
    remaining = []
    for item in files:
        if item.id in keep_ids:
            remaining.append(item)
        else:
            with contextlib.suppress(OSError):
                Path(item.path).unlink()
    (folder / "manifest.json").write_text(json.dumps([f.manifest() for f in remaining], ensure_ascii=False))
    return remaining


def stash_discard(token: str) -> None:
    folder = _stash_dir(token)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def _stash_purge_expired(max_folders: int = 200) -> None:
    """Remove abandoned stashes (bounded per call, so a big backlog never slows one request much)."""
    root = _stash_root()
    if not root.is_dir():
        return
    ttl = conf.get("TIP_UPLOAD_STASH_SECONDS")
    now = time.time()
    try:
        for i, folder in enumerate(root.iterdir()):
            if i >= max_folders:
                break
            with contextlib.suppress(OSError):
                if now - folder.stat().st_mtime > ttl:
                    shutil.rmtree(folder, ignore_errors=True)
    except OSError:
        log.warning("upload stash purge failed", exc_info=True)
