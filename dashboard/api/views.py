"""GET /api/v1/dashboard/summary/: the dashboard's numbers as JSON, with the pages' filters."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign.api.permissions import roles_permission

from .. import selectors
from ..access import DASHBOARD_ROLES
from ..documents import form_errors
from ..filters import filters_from_params
from .serializers import SummaryQuerySerializer, SummarySerializer

SECTIONS = ("overview", "channels", "matrix", "units")


class SummaryView(APIView):
    permission_classes = [roles_permission(*DASHBOARD_ROLES)]

    @extend_schema(
        summary="领导驾驶舱汇总数据",
        parameters=[SummaryQuerySerializer],
        responses={200: SummarySerializer, 400: OpenApiResponse(description="筛选条件有误")},
    )
    def get(self, request):
        filters, form = filters_from_params(request.query_params, user=request.user)
        errors = {} if filters is not None else form_errors(form)
        wanted = [s.strip() for s in request.query_params.get("sections", "").split(",") if s.strip()]
        unknown = [s for s in wanted if s not in SECTIONS]
        if unknown:
            errors["sections"] = [
                _("未知的数据分区：%(unknown)s（可选 %(known)s）")
                % {"unknown": "、".join(unknown), "known": "、".join(SECTIONS)}
            ]
        if errors:
            raise ValidationError(errors)
        wanted = wanted or list(SECTIONS)
        out = {
            "filters": {
                **filters.as_params(),
                "label": filters.label,
                "include_restricted": filters.include_restricted,
            },
            "as_of": selectors.as_of(),
        }
        if "overview" in wanted:
            out["overview"] = selectors.overview(filters)
        if "channels" in wanted:
            out["channels"] = selectors.channels(filters)
        if "matrix" in wanted:
            out["matrix"] = selectors.matrix(filters)
        if "units" in wanted:
            out["units"] = selectors.units(filters)["units"]
        return Response(out)
