import functools

from . import navigation as nav
from .notifications import notification_unread_count


def navigation(request) -> dict:
    """Menu entries for the user's role, and the unread notification count where an app provides one."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_groups": []}
    return {"nav_groups": nav.groups_for(user)}


def notifications(request) -> dict:
    """The navbar's unread count: one COUNT on the partial index, only when a template asks for it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Templates call callables; the cache keeps it to one query however often the page uses it.
    return {"notification_unread_count": functools.cache(lambda: notification_unread_count(user))}
