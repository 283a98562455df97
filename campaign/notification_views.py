"""The notification centre: every signed-in role sees and clears its own notifications."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .access import role_required
from .models import Notification
from .notifications import (
    notification_list_for,
    notification_mark_all_read,
    notification_mark_read,
)
from .roles import Role

PAGE_SIZE = 30


@never_cache
@require_GET
@role_required(*Role.values)
def notification_list(request):
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(notification_list_for(request.user, unread_only=unread_only), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # The unread total comes from the navbar's context processor: one COUNT serves both.
    return render(request, "campaign/notifications.html", {"page": page, "unread_only": unread_only})


@require_POST
@role_required(*Role.values)
def notification_read(request, pk: int):
    """Mark read, then open what it is about (only a link inside the portal)."""
    try:
        notification = notification_mark_read(user=request.user, notification_id=pk)
    except Notification.DoesNotExist:
        raise Http404
    target = notification.url
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("notifications")


@require_POST
@role_required(*Role.values)
def notification_read_all(request):
    count = notification_mark_all_read(user=request.user)
    if count:
        messages.success(request, _("已将 %(count)s 条通知标为已读。") % {"count": count})
    return redirect("notifications")
