"""A public node serves only public pages, the public API and the transfer endpoints; an internal node
serves the staff portal and refuses the public intake."""

import pytest
from django.test import Client
from django.urls import clear_url_caches, reverse

from transfer import zones


@pytest.fixture
def zone(settings, db, campaign_data):
    def switch(name: str) -> Client:
        settings.PORTAL_ZONE = name
        settings.ROOT_URLCONF = f"tests.zones.urls_{name}"
        clear_url_caches()
        return Client()

    yield switch
    clear_url_caches()


STAFF_PATHS = ["/tips/", "/home/", "/ops/", "/admin/", "/accounts/login/", "/api/v1/tips/", "/api/v1/schema/"]
PUBLIC_PAGES = ["/", "/report/", "/report/how/", "/track/", "/cases/"]


def test_public_node_serves_public_pages_and_nothing_of_the_staff_portal(zone):
    client = zone("public")
    for path in PUBLIC_PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "工作人员登录" not in response.content.decode()
    for path in STAFF_PATHS:
        assert client.get(path).status_code == 404, path
    assert client.get("/healthz").status_code == 200
    assert client.get("/zone-transfer/v1/pull/").status_code == 405  # POST only, and signed
    assert client.get("/api/v1/public/tips/", HTTP_ACCEPT="text/html").status_code == 405


def test_public_node_has_no_staff_url_names(zone):
    zone("public")
    from django.urls import NoReverseMatch

    for name in ("login", "home", "reports:register", "admin:index", "reports:tip_detail"):
        with pytest.raises(NoReverseMatch):
            reverse(name, args=[1]) if name == "reports:tip_detail" else reverse(name)
    assert reverse("reports:submit") == "/report/"


def test_internal_node_refuses_public_intake_and_transfer_endpoints(zone):
    client = zone("internal")
    for path in PUBLIC_PAGES[1:]:
        assert client.get(path).status_code == 404, path
    assert client.post("/api/v1/public/tips/", {"description": "x"}).status_code == 404
    assert client.post("/zone-transfer/v1/pull/", "{}", content_type="application/json").status_code == 404
    landing = client.get("/")
    assert landing.status_code == 302 and landing["Location"] == reverse("login")
    assert client.get("/accounts/login/").status_code == 200
    # Staff templates may still link to public pages: the names resolve.
    assert reverse("reports:cases") == "/cases/"


def test_internal_node_serves_the_staff_portal(zone, users):
    client = zone("internal")
    client.force_login(users["liaison_housing"])
    assert client.get("/home/").status_code == 200


def test_guard_middleware_refuses_what_the_url_map_should_not_have_routed(zone, settings):
    """Even with the full URL map (a mistake in config/urls.py), a public node answers staff URLs 404."""
    settings.PORTAL_ZONE = "public"
    settings.ROOT_URLCONF = "tests.zones.urls_all"
    clear_url_caches()
    client = Client()
    assert client.get("/accounts/login/").status_code == 404
    assert client.get("/api/v1/tips/").status_code == 404
    assert client.get("/report/how/").status_code == 200


def test_every_public_view_is_known_to_the_zone_table():
    """A public page the reports app adds must be listed in transfer.zones (deny by default), or a public
    node does not serve it; this test says so instead of letting it vanish quietly."""
    from config import urls

    public_views = {
        name
        for _route, name, p in zones._walk(urls.all_urlpatterns)
        if getattr(p.callback, "__module__", "").endswith(".views.public")
    }
    unknown = public_views - zones.PUBLIC_PAGES
    assert not unknown, f"add these public pages to transfer.zones.PUBLIC_PAGES: {sorted(unknown)}"


def test_unknown_zone_stops_start_up(settings):
    from django.apps import apps
    from django.core.exceptions import ImproperlyConfigured

    settings.PORTAL_ZONE = "dmz"
    with pytest.raises(ImproperlyConfigured, match="PORTAL_ZONE"):
        apps.get_app_config("transfer").ready()
