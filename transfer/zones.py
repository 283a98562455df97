"""Which URLs a node serves, by PORTAL_ZONE, and the guard middleware behind that choice.

- all: everything (one process, as `make run` does).
- public: the public pages (landing, how to report, tip form, receipt, follow-up, typical cases), the
  public tip API (sealed versions of submit, status and reply), /healthz, language switch, and the
  signed transfer endpoints. No staff page, no admin, no staff API is even routed.
- internal: the staff portal, staff API and admin. Public pages and the public API answer 404, but
  keep their names so staff templates that link to them still render.

config/urls.py builds the full list and passes it through `select_urlpatterns`.
"""

from __future__ import annotations

from django.core.exceptions import MiddlewareNotUsed
from django.http import Http404, HttpResponseNotFound
from django.urls import URLPattern, URLResolver, path
from django.views.generic import RedirectView

from . import conf

# Public pages by URL name (namespace:name). Those the sealed flow replaces are served by
# transfer.public_views on a public node; the rest (information pages) by the reports app itself.
PUBLIC_PAGES = frozenset(
    {
        "public:landing",
        "reports:submit",
        "reports:receipt",
        "reports:howto",
        "reports:track",
        "reports:track_detail",
        "reports:track_end",
        "reports:track_attachment",
        "reports:cases",
        "reports:case_detail",
    }
)
SEALED_PAGES = frozenset(
    {"reports:submit", "reports:track", "reports:track_detail", "reports:track_attachment"}
)
PUBLIC_API_PREFIX = "api/v1/public/"
SEALED_API = {
    "api/v1/public/tips/": "create",
    "api/v1/public/tips/status/": "status",
    "api/v1/public/tips/messages/": "messages",
}
# Served on every kind of node.
COMMON = frozenset({"healthz", "set_language"})
TRANSFER_PREFIX = "zone-transfer/"


def _walk(patterns, prefix: str = "", namespace: str = ""):
    """Yield (route, view name, pattern, resolver chain) for every leaf URL pattern."""
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            ns = f"{namespace}:{p.namespace}" if namespace and p.namespace else (p.namespace or namespace)
            yield from _walk(p.url_patterns, route, ns)
        else:
            name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
            yield route, name, p


def _rebuild(patterns, keep, replace, prefix: str = "", namespace: str = ""):
    """A copy of the URL tree with leaves filtered by keep(route, name) and swapped by replace()."""
    out = []
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            ns = f"{namespace}:{p.namespace}" if namespace and p.namespace else (p.namespace or namespace)
            children = _rebuild(p.url_patterns, keep, replace, route, ns)
            if children:
                out.append(URLResolver(p.pattern, children, p.default_kwargs, p.app_name, p.namespace))
        else:
            name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
            if not keep(route, name):
                continue
            new_view = replace(route, name)
            if new_view is not None:
                p = URLPattern(p.pattern, new_view, p.default_args, p.name)
            out.append(p)
    return out


def is_public_route(route: str, name: str) -> bool:
    return name in PUBLIC_PAGES or name in COMMON or route.startswith(PUBLIC_API_PREFIX)


def zone_not_here(request, *args, **kwargs):
    raise Http404


def select_urlpatterns(urlpatterns: list, zone: str | None = None) -> list:
    zone = zone or conf.zone()
    if zone == "all":
        return urlpatterns
    if zone == "public":
        from . import public_views, views

        api_views = {
            "create": views.SealedTipCreateView.as_view(),
            "status": views.SealedTipStatusView.as_view(),
            "messages": views.SealedTipMessageView.as_view(),
        }

        def replace_public(route: str, name: str):
            if route in SEALED_API:
                return api_views[SEALED_API[route]]
            if name in SEALED_PAGES:
                return public_views.VIEWS[name.split(":", 1)[1]]
            return None

        kept = _rebuild(urlpatterns, is_public_route, replace_public)
        return [
            *kept,
            path(f"{TRANSFER_PREFIX}v1/<slug:action>/", views.transfer_endpoint, name="zone-transfer"),
        ]

    # internal: public pages keep their names (staff templates may link to them) but answer 404; the
    # landing page sends people to the staff login.
    def replace_internal(route: str, name: str):
        if name == "public:landing":
            return RedirectView.as_view(pattern_name="login", permanent=False)
        if name in COMMON:
            return None
        if name in PUBLIC_PAGES or route.startswith(PUBLIC_API_PREFIX):
            return zone_not_here
        return None

    return _rebuild(urlpatterns, lambda route, name: True, replace_internal)


class ZoneGuardMiddleware:
    """Second wall behind the URL selection: whatever config/urls.py ends up routing, a public node
    answers only public and transfer URLs, and an internal node never the public intake or transfer."""

    def __init__(self, get_response):
        self.zone = conf.zone()
        if self.zone == "all":
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        path_info = request.path_info.lstrip("/")
        if self.zone == "internal" and path_info.startswith(TRANSFER_PREFIX):
            return HttpResponseNotFound()
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None:
            return None
        route = request.path_info.lstrip("/")
        name = match.view_name or ""
        if self.zone == "public":
            allowed = (
                is_public_route(route, name) or route.startswith(TRANSFER_PREFIX) or name == "zone-transfer"
            )
            if not allowed:
                return HttpResponseNotFound()
        elif (
            self.zone == "internal"
            and name != "public:landing"
            and (name in PUBLIC_PAGES or route.startswith(PUBLIC_API_PREFIX))
        ):
            return HttpResponseNotFound()
        return None
