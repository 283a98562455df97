"""Staff login in steps (password, then a one-time code or enrolment), account security, my sessions.

The views are thin: campaign.security checks, counts, locks and audits.
"""

import django_otp
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from . import security
from .models import UserSession


class LoginForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("用户名"), max_length=150)
    password = forms.CharField(label=gettext_lazy("密码"), strip=False, widget=forms.PasswordInput)


class CodeForm(forms.Form):
    otp_token = forms.CharField(label=gettext_lazy("动态验证码"), max_length=32)


def _next_url(request, fallback: str | None = None) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback or reverse("home")


def _locked(request, template: str, context: dict, exc: security.LockedOut):
    context = {**context, "locked_message": exc.message}
    return render(request, template, context, status=429)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request):
    """Step 1: username and password. Sends users who need a second factor on to the code or enrolment."""
    user = request.user
    if user.is_authenticated and (not security.otp_required(user) or user.is_verified()):
        return redirect(_next_url(request))
    next_url = _next_url(request, fallback="")
    form = LoginForm(request.POST or None)
    context = {"form": form, "next": next_url}
    template = "registration/login.html"
    if request.method != "POST" or not form.is_valid():
        return render(request, template, context)
    try:
        user = security.password_check(
            request=request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            channel="web",
        )
    except security.LockedOut as exc:
        return _locked(request, template, context, exc)
    except security.AuthFailed as exc:
        form.add_error(None, exc.message)
        return render(request, template, context)
    security.pending_clear(request)
    if security.otp_enrolled(user):
        security.pending_start(request=request, user=user, next_url=next_url)
        return redirect("login-otp")
    if security.otp_required(user):
        security.pending_start(request=request, user=user, next_url=next_url)
        return redirect("login-enrol")
    security.login_complete(request=request, user=user)
    return redirect(next_url or reverse("home"))


def _pending_or_restart(request):
    pending = security.pending_get(request)
    if pending is None:
        security.pending_clear(request)
        messages.warning(request, _("登录已超时，请重新输入用户名和密码。"))
    return pending


@sensitive_post_parameters("otp_token")
@csrf_protect
@never_cache
def login_otp(request):
    """Step 2: the code from the authenticator app, or one recovery code."""
    pending = _pending_or_restart(request)
    if pending is None:
        return redirect("login")
    user, data = pending
    if not security.otp_enrolled(user):
        return redirect("login-enrol")
    # Bound on any POST, even an empty one: add_error() below needs a bound form.
    form = CodeForm(request.POST if request.method == "POST" else None)
    context = {"form": form, "pending_user": user}
    template = "registration/login_otp.html"
    if request.method != "POST":
        return render(request, template, context)
    try:
        device = security.otp_check(
            request=request, user=user, token=request.POST.get("otp_token", ""), channel="web"
        )
    except security.LockedOut as exc:
        return _locked(request, template, context, exc)
    except security.AuthFailed as exc:
        form.errors.clear()
        form.add_error("otp_token", exc.message)
        return render(request, template, context)
    security.pending_clear(request)
    security.login_complete(request=request, user=user, device=device)
    if security.recovery_codes_left(user) <= 3 and security.device_is_recovery(device):
        messages.warning(
            request,
            _("您刚使用了一个恢复码，剩余 %(n)s 个。请在“账号安全”中重新生成恢复码。")
            % {"n": security.recovery_codes_left(user)},
        )
    return redirect(data.get("next") or reverse("home"))


@sensitive_post_parameters("otp_token")
@csrf_protect
@never_cache
def enrol(request):
    """Bind an authenticator app: during login for a role that requires it, or later from "account security"."""
    if request.user.is_authenticated:
        user = request.user
        if security.otp_enrolled(user) and not user.is_verified():
            raise PermissionDenied
        pending_data = None
        base_template = "base.html"
    else:
        pending = _pending_or_restart(request)
        if pending is None:
            return redirect("login")
        user, pending_data = pending
        if security.otp_enrolled(user):
            return redirect("login-otp")
        base_template = "public_base.html"
    device = security.otp_enrol_start(user=user)
    # Bound on any POST, even an empty one: add_error() below needs a bound form.
    form = CodeForm(request.POST if request.method == "POST" else None)
    uri = device.config_url
    secret = security.totp_secret(device)
    context = {
        "form": form,
        "base_template": base_template,
        "secret": secret,
        "secret_chunks": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        "otpauth_uri": uri,
        "qr_svg": mark_safe(security.qr_svg(uri)),  # generated SVG path data only
        "enrol_user": user,
        "required": security.otp_required(user),
        "replacing": security.otp_enrolled(user),
    }
    template = "registration/otp_enrol.html"
    if request.method != "POST":
        return render(request, template, context)
    token = request.POST.get("otp_token", "")
    try:
        security.lockout_check(username=user.username, ip=security.client_ip(request))
    except security.LockedOut as exc:
        return _locked(request, template, context, exc)
    result = security.otp_enrol_confirm(user=user, token=token, request=request)
    if result is None:
        form.errors.clear()
        message = _("验证码不正确，请核对手机时间后输入身份验证器上显示的 6 位数字。")
        form.add_error("otp_token", message)
        locked = security.enrol_failed(request=request, user=user)
        if locked:
            return _locked(request, template, context, locked)
        return render(request, template, context)
    device, codes = result
    if pending_data is not None:
        security.pending_clear(request)
        security.login_complete(request=request, user=user, device=device)
        continue_url = pending_data.get("next") or reverse("home")
    else:
        django_otp.login(request, device)
        continue_url = reverse("account-security")
    return render(
        request,
        "registration/recovery_codes.html",
        {"codes": codes, "continue_url": continue_url, "just_enrolled": True},
    )


@login_required
@never_cache
def account_security(request):
    user = request.user
    context = {
        "enrolled": security.otp_enrolled(user),
        "required": security.otp_required(user),
        "verified": user.is_verified(),
        "codes_left": security.recovery_codes_left(user),
        "device": security.totp_device(user),
        "locked": security.lockout_is_locked(username=user.username),
        "lockout": security.lockout_settings(),
        "idle_minutes": settings.SESSION_COOKIE_AGE // 60,
    }
    return render(request, "registration/account_security.html", context)


def _require_verified(request) -> None:
    if not (security.otp_enrolled(request.user) and request.user.is_verified()):
        raise PermissionDenied


@login_required
@require_POST
@never_cache
def recovery_codes_new(request):
    _require_verified(request)
    codes = security.recovery_codes_regenerate(user=request.user, request=request)
    return render(
        request,
        "registration/recovery_codes.html",
        {"codes": codes, "continue_url": reverse("account-security"), "just_enrolled": False},
    )


@login_required
@require_POST
def otp_disable(request):
    _require_verified(request)
    if security.otp_required(request.user):
        raise PermissionDenied
    security.otp_remove(user=request.user, actor=request.user, request=request)
    messages.success(request, _("已关闭双因素认证。"))
    return redirect("account-security")


@login_required
@never_cache
def my_sessions(request):
    sessions = security.sessions_active(user=request.user)
    current = request.session.session_key
    rows = [
        {
            "obj": s,
            "current": s.session_key == current,
            "device": security.user_agent_summary(s.user_agent),
        }
        for s in sessions
    ]
    rows.sort(key=lambda r: not r["current"])
    return render(
        request,
        "registration/my_sessions.html",
        {"rows": rows, "others": sum(not r["current"] for r in rows)},
    )


@login_required
@require_POST
def sessions_end_others(request):
    count = security.sessions_end_others(user=request.user, request=request)
    messages.success(request, _("已退出其他 %(n)s 处登录，API 令牌已作废。") % {"n": count})
    return redirect("account-sessions")


@login_required
@require_POST
def session_end(request, pk: int):
    if not security.session_end(user=request.user, session_id=pk, request=request):
        if not UserSession.objects.filter(pk=pk, user=request.user).exists():
            raise Http404
        messages.warning(request, _("当前会话请使用“退出登录”。"))
    else:
        messages.success(request, _("已结束该会话。"))
    return redirect("account-sessions")


class AccountPasswordChangeView(PasswordChangeView):
    """Change password; other sessions end (Django's session hash changes), this one stays."""

    template_name = "registration/account_password.html"
    success_url = reverse_lazy("account-security")

    def form_valid(self, form):
        old_key = self.request.session.session_key
        form.save()
        update_session_auth_hash(self.request, form.user)  # cycles this session's key
        security.password_changed(request=self.request, user=form.user, old_session_key=old_key)
        messages.success(self.request, _("密码已修改，其他设备上的登录已失效。"))
        return redirect(self.get_success_url())


password_change = AccountPasswordChangeView.as_view()
