"""Keyset pages for the tip list: the same {count, next, previous, results} shape, constant cost at depth."""

from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from .. import selectors


class TipKeysetPagination(BasePagination):
    page_size = 50
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        try:
            size = int(request.query_params.get("page_size", self.page_size))
        except ValueError:
            size = self.page_size
        size = max(1, min(size, self.max_page_size))
        self.request = request
        page = selectors.tip_page(
            queryset,
            sort=request.query_params.get("sort", "-received_at"),
            cursor=request.query_params.get("cursor", ""),
            size=size,
        )
        if page["next"] is None and page["previous"] is None:
            self.count, self.count_exact = len(page["items"]), True  # everything is on this page
        else:
            self.count, self.count_exact = selectors.tip_count(queryset)
        self.next_cursor, self.prev_cursor = page["next"], page["previous"]
        return page["items"]

    def _link(self, cursor):
        if not cursor:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(remove_query_param(url, "cursor"), "cursor", cursor)

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.count,
                "count_exact": self.count_exact,
                "next": self._link(self.next_cursor),
                "previous": self._link(self.prev_cursor),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "properties": {
                "count": {"type": "integer"},
                "count_exact": {"type": "boolean"},
                "next": {"type": "string", "nullable": True},
                "previous": {"type": "string", "nullable": True},
                "results": schema,
            },
        }
