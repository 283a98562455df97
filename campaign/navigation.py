"""Navigation by role. Each app registers its menu entries in AppConfig.ready(); lower apps never see higher ones."""

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str]
    icon: str = "circle"
    order: int = 100
    badge: str | None = None  # name of a callable in BADGES giving a count for the user
    kwargs: dict = field(default_factory=dict, hash=False, compare=False)


_ITEMS: list[NavItem] = []
BADGES: dict = {}


def register(*items: NavItem) -> None:
    for item in items:
        if item not in _ITEMS:
            _ITEMS.append(item)


def items_for(user) -> list[dict]:
    role = getattr(user, "role", None)
    out = []
    for item in sorted(_ITEMS, key=lambda i: i.order):
        if role not in item.roles and not (user.is_superuser and "admin" in item.roles):
            continue
        try:
            url = reverse(item.url_name, kwargs=item.kwargs or None)
        except NoReverseMatch:
            continue
        out.append({"label": item.label, "url": url, "icon": item.icon})
    return out
