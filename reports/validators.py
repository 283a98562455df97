"""Field checks shared by the public form, the staff form, the API serializers and the services."""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from . import conf

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
ID_RE = re.compile(r"^\d{17}[\dX]$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def normalize_phone(value: str) -> str:
    value = re.sub(r"[\s()（）]", "", value or "")
    if value.startswith("+86"):
        value = value[3:]
    return value


def validate_phone(value: str) -> str:
    """A mainland mobile number (11 digits) or a landline with area code; returns the normalized form."""
    phone = normalize_phone(value)
    if not (MOBILE_RE.match(phone) or LANDLINE_RE.match(phone)):
        raise ValidationError(
            _("电话号码格式不正确：请填写 11 位手机号，或带区号的固定电话（如 0391-1234567）。"), code="phone"
        )
    return phone


def validate_id_number(value: str) -> str:
    """An 18-character resident ID number (GB 11643): birth date and ISO 7064 check digit."""
    number = (value or "").strip().upper()
    if not ID_RE.match(number):
        raise ValidationError(_("身份证号码应为 18 位，最后一位可以是数字或 X。"), code="id_format")
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("身份证号码中的出生日期无效。"), code="id_birth")
    if born > timezone.localdate() or born.year < 1900:
        raise ValidationError(_("身份证号码中的出生日期无效。"), code="id_birth")
    total = sum(int(d) * w for d, w in zip(number[:17], ID_WEIGHTS, strict=True))
    if ID_CHECK[total % 11] != number[17]:
        raise ValidationError(_("身份证号码校验位不正确，请核对后重新填写。"), code="id_check")
    return number


def validate_not_future_date(value: dt.date | None) -> None:
    if value and value > timezone.localdate():
        raise ValidationError(_("日期不能晚于今天。"), code="future")


def validate_not_future_datetime(value: dt.datetime | None) -> None:
    # A minute of slack for clocks that disagree a little.
    if value and value > timezone.now() + dt.timedelta(minutes=1):
        raise ValidationError(_("时间不能晚于现在。"), code="future")


def validate_description(value: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(_("请填写举报内容。"), code="required")
    limit = conf.get("TIP_DESCRIPTION_MAX")
    if len(text) > limit:
        raise ValidationError(
            _("举报内容过长：最多 %(limit)d 字，当前 %(count)d 字。") % {"limit": limit, "count": len(text)},
            code="max_length",
        )
    return text


def validate_message_body(value: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(_("请填写留言内容。"), code="required")
    limit = conf.get("TIP_MESSAGE_MAX")
    if len(text) > limit:
        raise ValidationError(
            _("留言过长：最多 %(limit)d 字，当前 %(count)d 字。") % {"limit": limit, "count": len(text)},
            code="max_length",
        )
    return text


def validate_identity(*, anonymous: bool, identity: dict) -> dict:
    """Check the informant fields together; returns cleaned values or raises a field-keyed ValidationError."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    given = {k: (v or "").strip() for k, v in identity.items() if (v or "").strip()}
    if anonymous:
        if given:
            errors["anonymous"] = [
                _("您选择了匿名举报，但填写了身份信息。请改选实名举报，或清空姓名、电话等身份信息。")
            ]
        if errors:
            raise ValidationError(errors)
        return {}
    if not given:
        raise ValidationError(
            {"reporter_name": [_("实名举报请至少填写姓名或联系电话中的一项，或改选匿名举报。")]}
        )
    for key, value in given.items():
        try:
            if key == "phone":
                clean[key] = validate_phone(value)
            elif key == "id_number":
                clean[key] = validate_id_number(value)
            else:
                limit = 100 if key == "name" else 200
                if len(value) > limit:
                    raise ValidationError(_("最多 %(limit)d 字。") % {"limit": limit})
                clean[key] = value
        except ValidationError as exc:
            errors[f"reporter_{key}"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return clean
