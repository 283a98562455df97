"""With Redis unreachable, tips are still saved and follow-up still works: limits degrade, never fail."""

import pytest
from django.urls import reverse

from reports.models import Tip

pytestmark = pytest.mark.django_db(transaction=True)

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    settings.CELERY_BROKER_URL = DEAD_REDIS
    settings.REDIS_URL = DEAD_REDIS
    # Django's setting_changed handler rebuilds the cache connections for the new CACHES.
    yield


def test_public_form_saves_tip_with_redis_down(client, campaign_data, redis_down):
    response = client.post(reverse("reports:submit"), {"description": "有人收保护费。", "anonymous": "1"})
    assert response.status_code == 302
    assert Tip.objects.count() == 1
    assert client.get(reverse("reports:receipt")).status_code == 200


def test_public_api_saves_tip_and_follow_up_works_with_redis_down(api_client, campaign_data, redis_down):
    response = api_client.post("/api/v1/public/tips/", {"description": "有人收保护费。"}, format="json")
    assert response.status_code == 201
    body = response.json()
    status = api_client.post(
        "/api/v1/public/tips/status/",
        {"tracking_code": body["tracking_code"], "pin": body["pin"]},
        format="json",
    )
    assert status.status_code == 200
    wrong = api_client.post(
        "/api/v1/public/tips/status/",
        {"tracking_code": body["tracking_code"], "pin": "000001"},
        format="json",
    )
    if body["pin"] != "000001":
        assert wrong.status_code == 403
