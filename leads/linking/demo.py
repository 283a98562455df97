"""Demo data for linking: the entity index over demo tips and leads, a few imported cases, a watch flag.

`seed_linking` is idempotent (cases keyed by kind + number, one demo flag by label); `load_linking` indexes
what the load generators inserted and turns every 50th tip into an imported case, so the benchmark has
cases to find.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.db import connection, transaction
from django.utils import timezone

from campaign.models import Region, Sector, User

from .backfill import backfill
from .indexing import index_batch
from .models import CaseKind, ImportedCase, ItemKind, WatchFlag

DEMO_CASES = [
    # kind, number, title, description, accused, region code, sector code, days ago
    (
        CaseKind.CRIMINAL,
        "焦公(解)刑字〔2025〕0412号",
        "马某某等人寻衅滋事案",
        "2025年3月，马某某纠集多人在解放区某小区工地阻拦外地车队进场，殴打司机致轻伤，强迫施工方使用其渣土车。"
        "联系电话13703911234。",
        "马某某；焦作市宏达土石方工程有限公司",
        "jiefang",
        "construction",
        400,
    ),
    (
        CaseKind.SECURITY,
        "焦公(山)行罚决字〔2025〕1187号",
        "山阳区某农贸市场强收摊位费案",
        "群众反映山阳区某农贸市场有人以“管理费”名义向摊贩强收费用，不交即掀摊。经查，违法行为人李某等三人"
        "多次强行索要财物。",
        "李某、张某、王某",
        "shanyang",
        "markets",
        200,
    ),
    (
        CaseKind.PETITION,
        "焦信访〔2025〕第3306号",
        "武陟县某村征地补偿款被截留问题",
        "信访人反映武陟县某村村委会主任在征地拆迁中截留补偿款，并指使社会闲散人员上门威胁不签协议的村民。"
        "反映人电话0391-7221234。",
        "某村村委会主任",
        "wuzhi",
        "land_demolition",
        120,
    ),
]


def _index_everything(stdout=None) -> dict:
    return backfill(batch=500, stdout=None)


@transaction.atomic
def _seed_cases() -> int:
    regions = {r.code: r.pk for r in Region.objects.all()}
    sectors = {s.code: s.pk for s in Sector.objects.all()}
    today = timezone.localdate()
    created = []
    for i, (kind, number, title, description, accused, region, sector, days) in enumerate(
        DEMO_CASES, start=2
    ):
        if ImportedCase.objects.filter(kind=kind, case_number=number).exists():
            continue
        digest = hashlib.sha256(f"{kind}{number}{title}{description}".encode()).hexdigest()
        case = ImportedCase.objects.create(
            kind=kind,
            case_number=number,
            title=title,
            description=description,
            accused=accused,
            region_id=regions.get(region),
            sector_id=sectors.get(sector),
            occurred_at=today - dt.timedelta(days=days),
            source_file="演示数据.xlsx",
            source_row=i,
            row_hash=digest,
        )
        created.append(case.pk)
    if created:
        index_batch(ItemKind.CASE, created)
    return len(created)


def _seed_flag() -> int:
    office = User.objects.filter(username="office").select_related("unit").first()
    if office is None or office.unit_id is None:
        return 0
    label = "焦作市宏达土石方工程有限公司"
    if WatchFlag.objects.filter(label=label).exists():
        return 0
    from .services import watch_flag_create

    watch_flag_create(
        actor=office,
        kind="company",
        value=label,
        reason="涉嫌垄断土石方运输、暴力阻工，市公安局已立案侦查（演示数据）。",
        ends_on=timezone.localdate() + dt.timedelta(days=365),
    )
    return 1


def seed_linking(stdout=None) -> dict:
    cases = _seed_cases()
    counts = _index_everything()
    flags = _seed_flag()
    return {
        "cases_created": cases,
        "flags_created": flags,
        **{k: v for k, v in counts.items() if "mentions" not in k},
    }


def load_linking(*, tips: int, stdout=None, seed: int = 2026) -> dict:
    """Index the generated tips and leads, and import every 50th tip as an existing case."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO linking_importedcase (kind, case_number, title, description, accused, region_id,
                sector_id, occurred_at, source_file, source_row, row_hash, created_at, updated_at)
            SELECT (ARRAY['criminal', 'security', 'petition'])[1 + mod(t.id, 3)],
                   'LOAD-' || t.id, left(t.description, 40), t.description, t.accused, t.region_id,
                   t.sector_id, (t.received_at - interval '20 days')::date, 'generate_load', t.id,
                   md5(t.description), now(), now()
            FROM reports_tip t
            WHERE mod(t.id, 50) = 0
            ON CONFLICT (kind, case_number) DO NOTHING
            """
        )
        cases = cur.rowcount
    counts = backfill(batch=2000, stdout=stdout)
    return {"cases": cases, **counts}
