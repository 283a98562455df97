"""Navigation by role. Each app registers its menu entries in AppConfig.ready(); lower apps never see higher ones."""

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


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


# Menu sections, by the URL namespace of each entry (apps register entries; the layout groups them).
GROUPS = [
    ("reports", _("举报受理")),
    ("leads", _("线索核查")),
    ("linking", _("串并研判")),
    ("accountability", _("责任追究")),
    ("dashboard", _("统计分析")),
    ("", _("系统")),
]


def groups_for(user) -> list[dict]:
    """Entries for the user's role in sections: [{"label", "items": [...]}], empty sections left out."""
    items = items_for(user)
    sections = [{"label": "", "items": [i for i in items if i["url_name"] == "home"]}]
    items = [i for i in items if i["url_name"] != "home"]
    for namespace, label in GROUPS:
        members = [i for i in items if i["namespace"] == namespace]
        if namespace == "":
            members = [i for i in items if i["namespace"] not in {n for n, _l in GROUPS if n}]
        if members:
            sections.append({"label": label, "items": members})
    return sections


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
        namespace = item.url_name.split(":", 1)[0] if ":" in item.url_name else ""
        out.append(
            {
                "label": item.label,
                "url": url,
                "icon": item.icon,
                "namespace": namespace,
                "url_name": item.url_name,
            }
        )
    return out
