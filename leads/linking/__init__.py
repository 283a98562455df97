"""Linking (串并): entity extraction and validators, pure Python, shared by intake, backfill and import."""

from .extraction import (
    Entity,
    Kind,
    company_key,
    distinct,
    extract_entities,
    mask,
    normalize_entity,
    normalize_text,
)
from .validators import luhn_valid, valid_landline, valid_mobile, valid_plate, valid_resident_id, valid_uscc

__all__ = [
    "Entity",
    "Kind",
    "company_key",
    "distinct",
    "extract_entities",
    "luhn_valid",
    "mask",
    "normalize_entity",
    "normalize_text",
    "valid_landline",
    "valid_mobile",
    "valid_plate",
    "valid_resident_id",
    "valid_uscc",
]
