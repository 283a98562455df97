"""Fixtures for the reports tests: clean Redis counters, private media per test, tips and files."""

import contextlib
import io
import struct
import zipfile
import zlib

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile


@pytest.fixture(autouse=True)
def _clean_state(settings, tmp_path):
    """Each test gets empty rate-limit/lockout counters and its own upload directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with contextlib.suppress(Exception):  # tests that simulate a Redis outage set their own cache
        cache.clear()
    yield


def png_bytes(width: int = 8, height: int = 8) -> bytes:
    raw = b"".join(b"\x00" + b"\xcc\x22\x22" * width for _ in range(height))

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def photo():
    return lambda name="现场照片.png": upload(name, png_bytes(), "image/png")


@pytest.fixture
def reveal_users(users):
    """Grant the reveal permission as seed_demo does (office and office_leader)."""
    perm = Permission.objects.get(codename="reveal_identity", content_type__app_label="reports")
    for name in ("office", "office_leader"):
        users[name].user_permissions.add(perm)
    return users


@pytest.fixture
def make_tip(campaign_data):
    """make_tip(**fields) -> (tip, pin) through the real service."""
    from reports import services

    def make(**fields):
        fields.setdefault("description", "有人在工地强揽土方，殴打司机，垄断运输。")
        return services.tip_submit(**fields)

    return make


NAMED = {
    "name": "李建华",
    "phone": "13903911234",
    "id_number": "41080219780512003X",
    "address": "焦作市解放区民主路18号",
}
