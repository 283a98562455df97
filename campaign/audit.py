"""Writing audit rows. Every app records sensitive actions through `audit_record`."""

from typing import Any

from .models import AuditEntry


def audit_record(
    *,
    actor,
    action: str,
    target: Any = None,
    reason: str = "",
    data: dict | None = None,
    ip: str | None = None,
) -> AuditEntry:
    target_type = target_id = ""
    if target is not None:
        target_type = target._meta.label_lower
        target_id = str(target.pk)
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_name=getattr(actor, "username", "") or "",
        action=action,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        data=data or {},
        ip=ip,
    )


def client_ip(request) -> str | None:
    """The client address for staff audit rows (never stored for public submissions)."""
    return request.META.get("REMOTE_ADDR") if request is not None else None
