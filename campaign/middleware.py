"""Security middleware: response headers (CSP and friends) and the two-factor gate for staff sessions."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth import logout as auth_logout
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from . import security
from .models import User

# No inline script anywhere: every behaviour lives in static/js. Style *attributes* stay allowed
# (style-src-attr) because chart tooltips (ECharts) and progress bars set widths in markup; an attribute
# cannot load code or fetch from another origin (img-src/font-src/connect-src stay 'self').
# <style> elements and stylesheets must come from our own origin.
DEFAULT_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "style-src-elem": "'self'",
    "style-src-attr": "'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "frame-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "worker-src": "'self' blob:",
    "manifest-src": "'self'",
}

# The API docs page (drf-spectacular's Swagger UI, served with SpectacularSwaggerSplitView so its start-up
# script is a separate same-origin file) carries one inline <style> block in the package's template:
# only that page may use inline <style>; its scripts stay 'self'.
DOCS_CSP_OVERRIDES = {"style-src-elem": "'self' 'unsafe-inline'"}

PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=(), fullscreen=(self)"
)


def _policy(directives: dict) -> str:
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class SecurityHeadersMiddleware:
    """Content-Security-Policy, Permissions-Policy and no-store caching for signed-in pages.

    Referrer-Policy, nosniff and COOP come from Django's SecurityMiddleware (settings), X-Frame-Options
    from XFrameOptionsMiddleware, HSTS and secure cookies from the production settings.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = _policy(DEFAULT_CSP)
        self.docs_policy = _policy({**DEFAULT_CSP, **DOCS_CSP_OVERRIDES})
        self._docs_path = None

    def docs_path(self) -> str | None:
        if self._docs_path is None:
            try:
                self._docs_path = reverse("api-docs")
            except NoReverseMatch:
                self._docs_path = ""
        return self._docs_path

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            docs = request.path == self.docs_path()
            response["Content-Security-Policy"] = self.docs_policy if docs else self.policy
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        user = getattr(request, "user", None)
        # Pages with informant data must not stay in the browser cache of a shared office computer.
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            response["Cache-Control"] = "private, no-store"
        return response


def _is_exempt(request) -> bool:
    match = request.resolver_match
    if match is None:
        return True
    if "public" in match.namespaces:
        return True
    if match.url_name in EXEMPT_URL_NAMES:
        return True
    return request.path.startswith("/api/v1/public/")


EXEMPT_URL_NAMES = frozenset(
    {
        "login",
        "logout",
        "api-token",
        "healthz",
        "set_language",
        "schema",
        "api-docs",
    }
)


class OTPRequiredMiddleware:
    """Refuse staff pages and the API to a session of a role that needs two-factor login unless the
    session was verified with a code (django-otp's OTPMiddleware must run first).

    Such a session can arise when the user's role changed after they logged in, or from any login path
    that bypassed the code step. Pages turn it back into a half-way login and send it to the code step
    (or to enrolment); the API answers 403 with a readable message. Also keeps "my sessions" up to date.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated:
            return None
        if not security.otp_required(user) or user.is_verified() or _is_exempt(request):
            security.session_touch(request)
            return None
        message = _("您的角色须使用双因素认证（动态验证码）登录，请完成验证后继续。")
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=403, json_dumps_params={"ensure_ascii": False})
        backend = request.session.get(BACKEND_SESSION_KEY) or settings.AUTHENTICATION_BACKENDS[0]
        staff_user = User.objects.get(pk=user.pk)
        auth_logout(request)
        staff_user.backend = backend
        next_url = request.get_full_path() if request.method == "GET" else reverse("home")
        security.pending_start(request=request, user=staff_user, next_url=next_url)
        messages.warning(request, message)
        target = reverse("login-otp") if security.otp_enrolled(staff_user) else reverse("login-enrol")
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)
