"""URL map. Public pages live under the `public` namespace; staff pages need a login; the API is under /api/v1/."""

from importlib.util import find_spec

from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from campaign import views as campaign_views
from transfer.zones import select_urlpatterns

public_patterns = [path("", campaign_views.landing, name="landing")]

api_patterns = [
    path("", include("campaign.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Split view: the Swagger start-up script is a separate same-origin file, so the CSP needs no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]
urlpatterns = [
    path("", include((public_patterns, "public"))),
    path("", include("campaign.urls")),
    path("healthz", campaign_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

# Each app contributes its pages and API when it has them; the order follows the app dependency arrows.
for app in ("reports", "leads", "accountability", "dashboard"):
    if find_spec(f"{app}.urls"):
        urlpatterns.append(path("", include(f"{app}.urls")))
    if find_spec(f"{app}.api.urls"):
        api_patterns.append(path("", include(f"{app}.api.urls")))

# Linking (串并) is a sub-app of leads (leads/linking), so the loop above does not find it.
urlpatterns.append(path("", include("leads.linking.urls")))
api_patterns.append(path("", include("leads.linking.api.urls")))

# The weekly bulletin (周通报, issue 11) keeps its pages in accountability/bulletin.py (namespace "bulletin").
if find_spec("accountability.bulletin"):
    urlpatterns.append(path("", include("accountability.bulletin")))

urlpatterns.append(path("api/v1/", include(api_patterns)))

# PORTAL_ZONE=public|internal serves only its zone's part of this map (transfer/zones.py).
all_urlpatterns = urlpatterns
urlpatterns = select_urlpatterns(all_urlpatterns)

if settings.BENCH_BARE_VIEW:
    urlpatterns.append(path("bench/ok", lambda request: HttpResponse("ok"), name="bench-ok"))
