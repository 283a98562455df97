from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from campaign import security
from campaign.models import Region, Sector, Unit


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label=_("用户名"), max_length=150)
    password = serializers.CharField(label=_("密码"), style={"input_type": "password"}, trim_whitespace=False)
    otp = serializers.CharField(
        label=_("动态验证码"),
        required=False,
        allow_blank=True,
        max_length=32,
        help_text=_(
            "身份验证器上的 6 位动态码或一个恢复码。扫黑办、公安、纪委监委和系统管理员账号必填，"
            "其他已启用双因素认证的账号也须填写。"
        ),
    )

    def validate(self, attrs):
        """Password, then the one-time code where needed; security.LockedOut passes through to the view."""
        try:
            attrs["user"] = security.token_login(
                request=self.context["request"],
                username=attrs["username"],
                password=attrs["password"],
                otp=attrs.get("otp", ""),
            )
        except security.AuthFailed as exc:
            raise serializers.ValidationError({exc.field: [exc.message]})
        return attrs


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class RegionSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent"]


class UnitSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Unit
        fields = ["code", "name", "short_name", "kind", "region", "hotline", "mailbox", "email", "website"]


class SectorSerializer(serializers.ModelSerializer):
    lead_unit = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Sector
        fields = ["code", "name", "lead_unit"]
