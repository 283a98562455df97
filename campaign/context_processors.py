from . import navigation as nav


def navigation(request) -> dict:
    """Menu entries for the user's role, and the unread notification count where an app provides one."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    return {"nav_items": nav.items_for(user)}
