"""Staff login security: two-factor login (TOTP and recovery codes), lockout, login audit, sessions.

The login page, the one-time-code step, enrolment and the token endpoint all call these functions, so
every way in counts failures, locks and audits the same way.

Lockout counters live in the Redis cache (one fixed window per username and per client address). When
Redis is unreachable the counters fail open with an error in the log: staff can still log in (with
their second factor) while the cache is down, rather than the whole office being locked out.
"""

import base64
import hashlib
import logging
import math
import re
import time
from dataclasses import dataclass
from importlib import import_module
from types import SimpleNamespace

import django_otp
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import audit_record
from .models import User, UserSession
from .roles import Role

logger = logging.getLogger(__name__)

# Roles that must pass a second factor: they see informant identities, register leads or administer.
OTP_REQUIRED_ROLES = frozenset({Role.OFFICE, Role.POLICE, Role.DISCIPLINE, Role.ADMIN})

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "身份验证器"
RECOVERY_DEVICE_NAME = "恢复码"
DEMO_DEVICE_NAME = "演示身份验证器"

# Between the password step and the code step the session holds who is half-way in, never a login.
PENDING_SESSION_KEY = "_login_pending"
PENDING_MAX_AGE = 5 * 60
SEEN_SESSION_KEY = "_seen_at"
SEEN_INTERVAL = 60

_CACHE_PREFIX = "sec"


# --- who needs a second factor -------------------------------------------------------------------
def otp_required(user) -> bool:
    return getattr(user, "role", None) in OTP_REQUIRED_ROLES


def otp_enrolled(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def otp_needed_at_login(user) -> bool:
    """Required roles always; other roles once they have enrolled an authenticator of their own accord."""
    return otp_required(user) or otp_enrolled(user)


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def client_ip(request) -> str | None:
    """The client address. Behind a reverse proxy set CLIENT_IP_HEADER (e.g. HTTP_X_REAL_IP) to the
    header the proxy overwrites, or every attempt would count against the proxy's own address."""
    if request is None:
        return None
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    value = request.META.get(header, "") if header else ""
    if value:
        return value.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


# --- errors --------------------------------------------------------------------------------------
class AuthFailed(Exception):
    """Wrong credentials or code; `field` names the form/API field the message belongs to."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class LockedOut(Exception):
    """Too many failures: every way in refuses this username or address until the lock expires."""

    seconds: int

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.seconds / 60))

    @property
    def message(self) -> str:
        return lockout_message(self.minutes)

    def __str__(self) -> str:
        return self.message


def lockout_message(minutes: int) -> str:
    return _("登录失败次数过多，账号已锁定，请 %(minutes)s 分钟后再试。") % {"minutes": minutes}


# --- lockout -------------------------------------------------------------------------------------
def lockout_settings() -> dict:
    """USER_FAILURES, IP_FAILURES, WINDOW_MINUTES, LOCK_MINUTES (settings.LOGIN_LOCKOUT over defaults)."""
    return _lockout_conf()


def _lockout_conf() -> dict:
    conf = {"USER_FAILURES": 5, "IP_FAILURES": 30, "WINDOW_MINUTES": 15, "LOCK_MINUTES": 15}
    conf.update(getattr(settings, "LOGIN_LOCKOUT", {}))
    return conf


def _key(kind: str, scope: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"{_CACHE_PREFIX}:{kind}:{scope}:{digest}"


def _targets(username: str | None, ip: str | None) -> list[tuple[str, str, int]]:
    conf = _lockout_conf()
    out = []
    if username:
        out.append(("user", username, conf["USER_FAILURES"]))
    if ip:
        out.append(("ip", ip, conf["IP_FAILURES"]))
    return out


def lockout_check(*, username: str | None, ip: str | None) -> None:
    """Raise LockedOut when the username or the address is locked."""
    now = time.time()
    for scope, value, _limit in _targets(username, ip):
        try:
            until = cache.get(_key("lock", scope, value))
        except Exception:
            logger.exception("lockout cache unavailable; not checking locks")
            return
        if until and until > now:
            raise LockedOut(seconds=math.ceil(until - now))


def _lockout_count_failure(*, username: str | None, ip: str | None, user, request) -> LockedOut | None:
    conf = _lockout_conf()
    window = conf["WINDOW_MINUTES"] * 60
    lock_seconds = conf["LOCK_MINUTES"] * 60
    locked = None
    for scope, value, limit in _targets(username, ip):
        key = _key("fail", scope, value)
        try:
            cache.add(key, 0, timeout=window)
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=window)
                count = 1
            if count < limit:
                continue
            cache.set(_key("lock", scope, value), time.time() + lock_seconds, timeout=lock_seconds)
            cache.delete(key)
        except Exception:
            logger.exception("lockout cache unavailable; failure not counted")
            return None
        locked = LockedOut(seconds=lock_seconds)
        audit_record(
            actor=_actor(user, username),
            action="auth.lockout",
            target=user,
            data={"scope": scope, "username": (username or "")[:150], "minutes": conf["LOCK_MINUTES"]},
            ip=client_ip(request),
        )
    return locked


def lockout_reset(*, username: str) -> None:
    """A complete login clears the username's failure count (never the address's)."""
    try:
        cache.delete(_key("fail", "user", username))
    except Exception:
        logger.exception("lockout cache unavailable")


def lockout_clear(*, username: str | None = None, ip: str | None = None) -> None:
    """Lift a lock early (the administrator's "unlock" action)."""
    keys = []
    if username:
        keys += [_key("fail", "user", username), _key("lock", "user", username)]
    if ip:
        keys += [_key("fail", "ip", ip), _key("lock", "ip", ip)]
    cache.delete_many(keys)


def lockout_is_locked(*, username: str) -> bool:
    try:
        lockout_check(username=username, ip=None)
    except LockedOut:
        return True
    return False


def lockout_clear_all() -> int:
    """Forget every counter and lock (tests start from a clean slate)."""
    pattern = cache.make_key(f"{_CACHE_PREFIX}:*")
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=pattern, count=500))
    if keys:
        client.delete(*keys)
    return len(keys)


# --- audit of attempts ---------------------------------------------------------------------------
def _actor(user, username: str | None):
    """The audit actor: the account when it exists, else only the name that was typed."""
    if user is not None:
        return user
    return SimpleNamespace(username=(username or "")[:150], is_authenticated=False)


def _failed(*, request, username: str, user, channel: str, reason: str, action: str) -> LockedOut | None:
    audit_record(
        actor=_actor(user, username),
        action=action,
        target=user,
        data={"channel": channel, "reason": reason, "username": username[:150]},
        ip=client_ip(request),
    )
    if reason == "locked":
        return None
    return _lockout_count_failure(username=username, ip=client_ip(request), user=user, request=request)


def _check_lock(*, request, username: str, user, channel: str) -> None:
    try:
        lockout_check(username=username, ip=client_ip(request))
    except LockedOut:
        _failed(
            request=request,
            username=username,
            user=user,
            channel=channel,
            reason="locked",
            action="auth.login_failed",
        )
        raise


# --- the steps of a login ------------------------------------------------------------------------
def password_check(*, request, username: str, password: str, channel: str) -> User:
    """First factor. Raises LockedOut or AuthFailed("password", …); counts and audits failures."""
    username = (username or "").strip()
    _check_lock(request=request, username=username, user=None, channel=channel)
    user = authenticate(request, username=username, password=password)
    if user is None:
        known = User.objects.filter(username=username).first()
        locked = _failed(
            request=request,
            username=username,
            user=known,
            channel=channel,
            reason="password",
            action="auth.login_failed",
        )
        if locked:
            raise locked
        raise AuthFailed("password", _("用户名或密码不正确。"))
    return user


def _normalise_token(token: str) -> str:
    return re.sub(r"[\s-]", "", token or "").lower()


def otp_match(*, user, token: str):
    """The confirmed device that accepts `token` (a 6-digit TOTP code or a recovery code), or None.

    A TOTP code is refused a second time within its window (django-otp keeps `last_t`); a recovery code
    is deleted when used.
    """
    token = _normalise_token(token)
    if not token:
        return None
    with transaction.atomic():
        if token.isdigit():
            devices = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True)
        else:
            devices = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True)
        for device in devices:
            if device.verify_token(token):
                return device
    return None


def otp_check(*, request, user, token: str, channel: str):
    """Second factor. Raises LockedOut or AuthFailed("otp", …); counts and audits failures."""
    _check_lock(request=request, username=user.username, user=user, channel=channel)
    if not _normalise_token(token):
        raise AuthFailed("otp", _("请输入动态验证码。"))
    device = otp_match(user=user, token=token)
    if device is None:
        locked = _failed(
            request=request,
            username=user.username,
            user=user,
            channel=channel,
            reason="otp",
            action="auth.otp_failed",
        )
        if locked:
            raise locked
        raise AuthFailed("otp", _("动态验证码不正确或已使用过，请输入身份验证器上的新验证码或一个恢复码。"))
    return device


def device_is_recovery(device) -> bool:
    return isinstance(device, StaticDevice)


def _device_kind(device) -> str | None:
    if device is None:
        return None
    return "recovery_code" if isinstance(device, StaticDevice) else "totp"


def login_complete(*, request, user, device=None, channel: str = "web") -> None:
    """Log the user in (and mark the session verified by `device`), clear the failure count, audit."""
    backend = getattr(user, "backend", None) or settings.AUTHENTICATION_BACKENDS[0]
    auth_login(request, user, backend=backend)
    if device is not None:
        django_otp.login(request, device)
    lockout_reset(username=user.username)
    data = {"channel": channel, "otp": _device_kind(device)}
    if isinstance(device, StaticDevice):
        data["recovery_codes_left"] = recovery_codes_left(user)
    audit_record(actor=user, action="auth.login", target=user, data=data, ip=client_ip(request))


def token_login(*, request, username: str, password: str, otp: str) -> User:
    """The token endpoint's checks: password, then the code where the user needs one."""
    user = password_check(request=request, username=username, password=password, channel="api")
    if not user.is_active:
        raise AuthFailed("username", _("该账号已停用。"))
    if otp_needed_at_login(user):
        if not otp_enrolled(user):
            raise AuthFailed("otp", _("该账号须启用双因素认证：请先在网页登录并绑定身份验证器。"))
        otp_check(request=request, user=user, token=otp, channel="api")
    lockout_reset(username=user.username)
    return user


# --- half-way state between the password and the code --------------------------------------------
def pending_start(*, request, user, next_url: str) -> None:
    request.session[PENDING_SESSION_KEY] = {
        "user_id": user.pk,
        "backend": getattr(user, "backend", None) or settings.AUTHENTICATION_BACKENDS[0],
        "next": next_url,
        "at": time.time(),
    }


def pending_get(request) -> tuple[User, dict] | None:
    data = request.session.get(PENDING_SESSION_KEY)
    if not data or time.time() - data.get("at", 0) > PENDING_MAX_AGE:
        return None
    user = User.objects.filter(pk=data.get("user_id"), is_active=True).first()
    if user is None:
        return None
    user.backend = data["backend"]
    return user, data


def pending_clear(request) -> None:
    request.session.pop(PENDING_SESSION_KEY, None)


# --- enrolment and recovery codes ----------------------------------------------------------------
def totp_secret(device: TOTPDevice) -> str:
    """The key in base32, as authenticator apps take it."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def totp_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def qr_svg(data: str) -> str:
    """The otpauth URI as an inline SVG QR code (no script, no external request)."""
    import segno

    return segno.make(data, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")


def enrol_failed(*, request, user) -> LockedOut | None:
    """A wrong code while binding an authenticator counts like any other failed code."""
    return _failed(
        request=request,
        username=user.username,
        user=user,
        channel="enrol",
        reason="otp",
        action="auth.otp_failed",
    )


def otp_enrol_start(*, user) -> TOTPDevice:
    """An unconfirmed authenticator for the user (the same one again until it is confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def _recovery_codes_create(*, user) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _i in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return [f"{code[:4]}-{code[4:]}" for code in codes]


@transaction.atomic
def otp_enrol_confirm(*, user, token: str, request) -> tuple[TOTPDevice, list[str]] | None:
    """Confirm the pending authenticator with a code from it; replaces any earlier one.

    Returns the device and ten new recovery codes (to show once), or None when the code is wrong.
    """
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-id").first()
    token = _normalise_token(token)
    if device is None or not token.isdigit() or not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    replaced = TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()[0]
    codes = _recovery_codes_create(user=user)
    audit_record(
        actor=user,
        action="auth.otp_enrolled",
        target=user,
        data={"replaced_devices": replaced},
        ip=client_ip(request),
    )
    return device, codes


@transaction.atomic
def recovery_codes_regenerate(*, user, request) -> list[str]:
    codes = _recovery_codes_create(user=user)
    audit_record(actor=user, action="auth.recovery_codes_regenerated", target=user, ip=client_ip(request))
    return codes


@transaction.atomic
def otp_remove(*, user, actor, request=None, reason: str = "") -> int:
    """Remove every second-factor device of `user` (the user turning optional 2FA off, or an
    administrator resetting a lost phone: the user then enrols again at the next login)."""
    removed = TOTPDevice.objects.filter(user=user).delete()[0]
    removed += StaticDevice.objects.filter(user=user).delete()[0]
    action = "auth.otp_disabled" if actor == user else "auth.otp_reset"
    audit_record(
        actor=actor,
        action=action,
        target=user,
        reason=reason,
        data={"devices_removed": removed},
        ip=client_ip(request),
    )
    return removed


def demo_seed_otp(stdout=None) -> dict:
    """Enrol the demo users whose role requires two-factor login with the documented demo secret."""
    from .demo import DEMO_TOTP_SECRET, USERS

    key = base64.b32decode(DEMO_TOTP_SECRET).hex()
    enrolled = 0
    demo_users = User.objects.filter(username__in=[u[0] for u in USERS], role__in=OTP_REQUIRED_ROLES)
    for user in demo_users:
        _device, created = TOTPDevice.objects.update_or_create(
            user=user, name=DEMO_DEVICE_NAME, defaults={"key": key, "confirmed": True}
        )
        enrolled += created
    return {"totp_devices_created": enrolled}


# --- sessions ------------------------------------------------------------------------------------
def session_record(*, request, user) -> None:
    """Remember a new login session (called on user_logged_in)."""
    key = getattr(getattr(request, "session", None), "session_key", None)
    if not key:
        return
    now = timezone.now()
    UserSession.objects.update_or_create(
        session_key=key,
        defaults={
            "user": user,
            "ip": client_ip(request),
            "user_agent": (request.META.get("HTTP_USER_AGENT") or "")[:300],
            "last_seen": now,
        },
    )
    request.session[SEEN_SESSION_KEY] = now.timestamp()


def session_touch(request) -> None:
    """Move `last_seen` forward, at most once a minute per session."""
    session = request.session
    key = session.session_key
    if not key:
        return
    now = timezone.now()
    last = session.get(SEEN_SESSION_KEY) or 0
    if now.timestamp() - last < SEEN_INTERVAL:
        return
    session[SEEN_SESSION_KEY] = now.timestamp()
    if not UserSession.objects.filter(session_key=key).update(last_seen=now):
        session_record(request=request, user=request.user)


def session_forget(*, session_key: str | None) -> None:
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


@transaction.atomic
def password_changed(*, request, user, old_session_key: str | None) -> None:
    """After a password change: keep this session listed under its new key, end the others, audit."""
    new_key = request.session.session_key
    if old_session_key and new_key and old_session_key != new_key:
        UserSession.objects.filter(session_key=old_session_key).update(session_key=new_key)
    store = _session_store()
    others = list(UserSession.objects.filter(user=user).exclude(session_key=new_key))
    for row in others:
        store(session_key=row.session_key).delete()
    UserSession.objects.filter(pk__in=[r.pk for r in others]).delete()
    audit_record(
        actor=user,
        action="auth.password_changed",
        target=user,
        data={"sessions_ended": len(others)},
        ip=client_ip(request),
    )


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def sessions_active(*, user) -> list[UserSession]:
    """The user's sessions that have not expired, newest activity first; forgets the expired ones."""
    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    UserSession.objects.filter(user=user).exclude(session_key__in=live).delete()
    return list(UserSession.objects.filter(user=user).order_by("-last_seen"))


@transaction.atomic
def sessions_end_others(*, user, request) -> int:
    """Log the user out everywhere but here: ends the other sessions and revokes the API token."""
    from rest_framework.authtoken.models import Token

    keep = request.session.session_key
    rows = list(UserSession.objects.select_for_update().filter(user=user).exclude(session_key=keep))
    store = _session_store()
    for row in rows:
        store(session_key=row.session_key).delete()
    UserSession.objects.filter(pk__in=[r.pk for r in rows]).delete()
    tokens = Token.objects.filter(user=user).delete()[0]
    audit_record(
        actor=user,
        action="auth.sessions_revoked",
        target=user,
        data={"sessions": len(rows), "tokens": tokens},
        ip=client_ip(request),
    )
    return len(rows)


@transaction.atomic
def session_end(*, user, session_id: int, request) -> bool:
    """End one of the user's other sessions."""
    row = (
        UserSession.objects.select_for_update()
        .filter(user=user, pk=session_id)
        .exclude(session_key=request.session.session_key)
        .first()
    )
    if row is None:
        return False
    _session_store()(session_key=row.session_key).delete()
    row.delete()
    audit_record(
        actor=user, action="auth.session_ended", target=user, data={"session": row.pk}, ip=client_ip(request)
    )
    return True


_UA_BROWSERS = [
    ("Edge", r"Edg(?:e|A|iOS)?/(\d+)"),
    ("微信", r"MicroMessenger/(\d+)"),
    ("Firefox", r"Firefox/(\d+)"),
    ("Chrome", r"(?:Chrome|CriOS)/(\d+)"),
    ("Safari", r"Version/(\d+).*Safari"),
]
_UA_SYSTEMS = [
    ("Android", r"Android"),
    ("iPhone", r"iPhone"),
    ("iPad", r"iPad"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X"),
    ("Linux", r"Linux"),
]


def user_agent_summary(user_agent: str) -> str:
    """A short "Chrome 131 · Windows" for the sessions page."""
    browser = next(
        (f"{name} {m.group(1)}" for name, rx in _UA_BROWSERS if (m := re.search(rx, user_agent or ""))), ""
    )
    system = next((name for name, rx in _UA_SYSTEMS if re.search(rx, user_agent or "")), "")
    return " · ".join(p for p in (browser, system) if p) or (user_agent or "")[:60] or _("未知设备")


# --- signals -------------------------------------------------------------------------------------
def _on_logged_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        session_record(request=request, user=user)


def _on_logged_out(sender, request, user, **kwargs):
    if request is None:
        return
    session_forget(session_key=request.session.session_key)
    if user is not None:
        audit_record(actor=user, action="auth.logout", target=user, ip=client_ip(request))


def connect() -> None:
    """Hook the auth signals and the demo seeder (from CampaignConfig.ready)."""
    from django.contrib.auth.signals import user_logged_in, user_logged_out

    from . import demo

    user_logged_in.connect(_on_logged_in, dispatch_uid="campaign.security.logged_in")
    user_logged_out.connect(_on_logged_out, dispatch_uid="campaign.security.logged_out")
    demo.register(15, "two-factor", demo_seed_otp)
