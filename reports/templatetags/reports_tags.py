"""Template helpers for the reports pages: Bootstrap classes on form widgets, masked values, file icons."""

from django import forms, template
from django.template.defaultfilters import filesizeformat

from ..models import Channel, TipStatus

register = template.Library()


# Labels through the choices enum, as leads_tags.lead_status_label does: Model.get_FOO_display() rebuilds
# a hashable dict of the (lazy) choices on every call, a fifth of a 50-row register page's rendering.
@register.filter
def tip_status_label(value: str):
    try:
        return TipStatus(value).label
    except ValueError:
        return value or ""


@register.filter
def tip_channel_label(value: str):
    try:
        return Channel(value).label
    except ValueError:
        return value or ""


@register.filter
def bs(field, extra: str = ""):
    """Render a bound field's widget with Bootstrap classes and, when invalid, is-invalid + aria links."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple):
        css = "form-select"
    else:
        css = "form-control"
    attrs = {"class": f"{css} {extra}".strip()}
    if field.errors:
        attrs["class"] += " is-invalid"
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{field.auto_id}-errors"
    elif field.help_text:
        attrs["aria-describedby"] = f"{field.auto_id}-help"
    return field.as_widget(attrs=attrs)


@register.filter
def file_icon(content_type: str) -> str:
    content_type = content_type or ""
    if content_type.startswith("image/"):
        return "file-earmark-image"
    if content_type.startswith("audio/"):
        return "file-earmark-music"
    if content_type.startswith("video/"):
        return "file-earmark-play"
    if content_type == "application/pdf":
        return "file-earmark-pdf"
    if "sheet" in content_type or "excel" in content_type:
        return "file-earmark-spreadsheet"
    if "presentation" in content_type or "powerpoint" in content_type:
        return "file-earmark-slides"
    return "file-earmark-text"


@register.filter
def size(value) -> str:
    return filesizeformat(value)


@register.simple_tag(takes_context=True)
def query_with(context, **kwargs) -> str:
    """The current query string with some parameters replaced (empty value removes one)."""
    params = context["request"].GET.copy()
    for key, value in kwargs.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


EVENT_LABELS = {
    "entered": "工作人员录入",
    "triage": "研判",
    "message": "给举报人留言",
    "identity_reveal": "查看举报人身份",
    "reward:proposed": "申请举报奖励",
    "reward:approved": "举报奖励获批",
    "reward:rejected": "举报奖励未获批准",
    "reward:paid": "举报奖励已发放",
    "retention_purge": "按期清除举报人信息",
    "restricted": "限制知悉范围",
    "unrestricted": "取消限制知悉范围",
}


@register.filter
def event_label(kind: str) -> str:
    from django.utils.translation import gettext

    label = EVENT_LABELS.get(kind)
    return gettext(label) if label else kind
