"""Reads for tips: scoping, the register (filters, search, keyset pages), follow-up views, counts."""

import base64
import datetime as dt
import json

from django.db import OperationalError, connection, transaction
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from campaign.models import PublicityActivity

from .access import ALL_TIPS_ROLES, UNIT_SCOPED_ROLES, restricted_tips_visible
from .models import Reward, Tip, TipEvent, TipMessage, TipStatus, TypicalCase


def tip_list_visible_to(user) -> QuerySet[Tip]:
    """Every tip `user` may see: all for office, police and leaders; their unit's for liaisons and heads.

    A tip behind a restricted lead (限制知悉范围) only for those who may see that lead (access.
    restricted_tips_visible). Pages, API, search, counts, exports and related items all start here.
    """
    qs = Tip.objects.all()
    if not (user and user.is_authenticated):
        return qs.none()
    if user.role in ALL_TIPS_ROLES:
        pass
    elif user.role in UNIT_SCOPED_ROLES and user.unit_id:
        qs = qs.filter(unit_id=user.unit_id)
    else:
        return qs.none()
    circle = restricted_tips_visible(user)
    if circle is None:
        return qs
    # `restricted = false` first: the subquery behind `circle` runs only for the few restricted rows.
    return qs.filter(Q(restricted=False) | circle)


def tip_get_visible(*, user, tip_id: int) -> Tip:
    """One tip for the tip page and API; out of scope is the same Tip.DoesNotExist as missing."""
    return (
        tip_list_visible_to(user)
        .select_related("sector", "region", "unit", "created_by", "triaged_by")
        .get(pk=tip_id)
    )


def tip_search(qs: QuerySet[Tip], text: str) -> QuerySet[Tip]:
    """Substring search over description and accused, served by the pg_trgm GIN indexes."""
    text = (text or "").strip()[:100]
    if not text:
        return qs
    return qs.filter(Q(description__trgm_icontains=text) | Q(accused__trgm_icontains=text))


# --- keyset pages --------------------------------------------------------------------------------
SORTS = {"-received_at": ("-received_at", "-id"), "received_at": ("received_at", "id")}


def _cursor_encode(tip: Tip, direction: str) -> str:
    raw = json.dumps([tip.received_at.isoformat(), tip.pk, direction])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _cursor_decode(cursor: str) -> tuple[dt.datetime, int, str] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at_text, pk, direction = json.loads(raw)
        at = parse_datetime(at_text)
        if at is None or direction not in ("next", "prev"):
            return None
        return at, int(pk), direction
    except (ValueError, TypeError):
        return None


def tip_page(
    qs: QuerySet[Tip],
    *,
    sort: str = "-received_at",
    cursor: str = "",
    size: int = 50,
    windows: tuple[dt.timedelta, ...] = (),
) -> dict:
    """One page of `qs` by (received_at, id): constant cost at any depth, unlike OFFSET.

    `windows` (newest first only): look in the last w days before the page's start first (walking the
    date index), then the next window, then everywhere (the planner's choice). A text search matching tens of thousands of tips otherwise makes PostgreSQL
    fetch and sort every match for 50 rows (the trigram index cannot return them in date order); when a
    window holds a full page, its newest rows are the newest overall.
    Returns {"items", "next", "previous"} with opaque cursors (None at the ends).
    """
    sort = sort if sort in SORTS else "-received_at"
    descending = sort.startswith("-")
    order = SORTS[sort]
    decoded = _cursor_decode(cursor) if cursor else None
    direction = "next"
    if decoded:
        at, pk, direction = decoded
        # Row comparison, so PostgreSQL walks the (received_at, id) index from the cursor.
        forward = descending == (direction == "next")
        op = "<" if forward else ">"
        qs = qs.filter(
            RawSQL(  # noqa: S611 — fixed SQL, values bound as parameters
                f'("reports_tip"."received_at", "reports_tip"."id") {op} (%s, %s)',
                (at, pk),
                output_field=BooleanField(),
            )
        )
        if direction == "prev":
            order = tuple(f[1:] if f.startswith("-") else f"-{f}" for f in order)
    rows = None
    if windows and descending and direction == "next":
        anchor = decoded[0] if decoded else timezone.now()
        for window in windows:
            # Walk the date index through the window (bounded by its length) instead of the bitmap of
            # every trigram match, which the planner picks because it underestimates common words.
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off")
                found = list(qs.filter(received_at__gte=anchor - window).order_by(*order)[: size + 1])
            if len(found) > size:
                rows = found
                break
    if rows is None:
        rows = list(qs.order_by(*order)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if direction == "prev":
        rows.reverse()
    has_next = more if direction == "next" else bool(decoded)
    has_prev = bool(decoded) if direction == "next" else more
    return {
        "items": rows,
        "next": _cursor_encode(rows[-1], "next") if rows and has_next else None,
        "previous": _cursor_encode(rows[0], "prev") if rows and has_prev else None,
    }


def tip_count(qs: QuerySet[Tip], *, exact_up_to: int = 10000, budget_ms: int = 400) -> tuple[int, bool]:
    """(count, exact). Exact up to `exact_up_to` rows and within `budget_ms`; otherwise the planner's
    estimate. A search that matches millions, or a short Chinese keyword that the trigram index cannot
    serve, then costs a bounded amount of time instead of a full count."""
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "SELECT current_setting('statement_timeout'), set_config('statement_timeout', %s, true)",
                [str(budget_ms)],
            )
            previous = cur.fetchone()[0]
            exact = qs.order_by()[: exact_up_to + 1].count()
            cur.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
    except OperationalError:  # the budget ran out (the savepoint rollback restored the timeout)
        exact = None
    if exact is not None and exact <= exact_up_to:
        return exact, True
    sql, params = qs.order_by().query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cur.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    estimate = int(plan[0]["Plan"]["Plan Rows"])
    return max(estimate, exact or 0), False


# --- informant side ------------------------------------------------------------------------------
def tip_public_timeline(tip: Tip) -> list[TipEvent]:
    return list(tip.events.filter(public=True).order_by("at", "id"))


def tip_messages(tip: Tip) -> list[TipMessage]:
    return list(
        tip.messages.prefetch_related("attachments").select_related("author").order_by("created_at", "id")
    )


def tip_reward_public(tip: Tip) -> Reward | None:
    """The reward the informant may hear about: approved (claim it) or paid."""
    return (
        tip.rewards.filter(status__in=[Reward.Status.APPROVED, Reward.Status.PAID])
        .order_by("-proposed_at")
        .first()
    )


# --- staff lists ---------------------------------------------------------------------------------
def tip_new_count() -> int:
    return Tip.objects.filter(status=TipStatus.NEW).count()


def tip_unread_reply_count(user=None) -> int:
    """Tips with informant replies not read yet; with `user`, only tips they may see."""
    qs = Tip.objects.all() if user is None else tip_list_visible_to(user)
    return qs.filter(unread_replies__gt=0).count()


def reward_list(*, status: str = "", user=None) -> QuerySet[Reward]:
    """Rewards, newest first; with `user`, only those for tips the user may see (限制知悉范围)."""
    qs = Reward.objects.select_related("tip", "first_tip", "proposed_by", "decided_by")
    if user is not None:
        qs = qs.filter(tip__in=tip_list_visible_to(user))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-proposed_at", "-id")


def publicity_list_visible_to(user) -> QuerySet[PublicityActivity]:
    qs = PublicityActivity.objects.select_related("unit", "created_by")
    if user.role in UNIT_SCOPED_ROLES or (user.role == "police"):
        return qs.filter(unit_id=user.unit_id)
    return qs


def typical_case_list_published() -> QuerySet[TypicalCase]:
    return TypicalCase.objects.filter(is_published=True).select_related("sector", "region")
