"""Settings of zones, transfer and backups, each overridable by a setting of the same name.

The ones an operator sets per machine come from the environment in config/settings/base.py
(PORTAL_ZONE, BACKUP_DIR, ZONE_*); the rest are defaults that tests lower.
"""

from django.conf import settings

DEFAULTS = {
    "PORTAL_ZONE": "all",
    # --- backups
    "BACKUP_DIR": None,  # settings.VAR_DIR / "backups"
    "BACKUP_KEEP_DAILY": 7,
    "BACKUP_KEEP_WEEKLY": 8,
    # --- transfer between the zones
    "ZONE_TRANSFER_KEY": "",  # shared secret of both zones (HMAC of requests, bundle encryption)
    "ZONE_PUBLIC_URL": "",  # internal side: base URL of the public node, e.g. https://10.0.0.5:8443
    "ZONE_SEAL_PUBLIC_KEY": "",  # public side: the internal zone's public key until a transfer sends one
    "ZONE_REPLAY_WINDOW_SECONDS": 300,
    "ZONE_TRANSFER_TIMEOUT": 30,
    "ZONE_TRANSFER_BATCH": 20,  # submissions per pull
    "ZONE_TRANSFER_BATCH_BYTES": 64 * 1024 * 1024,
    "ZONE_TRANSFER_MAX_BODY": 256 * 1024 * 1024,
    "ZONE_TLS_VERIFY": True,  # False only on a lab loopback; CA file: ZONE_TLS_CA_FILE
    "ZONE_TLS_CA_FILE": "",
}

ZONES = ("all", "public", "internal")


def get(name: str):
    value = getattr(settings, name, DEFAULTS[name])
    if name == "BACKUP_DIR" and not value:
        return settings.VAR_DIR / "backups"
    return value


def zone() -> str:
    return get("PORTAL_ZONE")
