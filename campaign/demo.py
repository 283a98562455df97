"""Demo data. Each app registers a seeder in ready(); `seed_demo` runs them in order. Idempotent."""

import datetime as dt

from django.db import transaction

from .models import Phase, Region, Sector, Unit, User
from .roles import Role

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 — documented demo credential
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # noqa: S105 — documented in the README

_SEEDERS: list[tuple[int, str, object]] = []


def register(order: int, name: str, func) -> None:
    if all(n != name for _o, n, _f in _SEEDERS):
        _SEEDERS.append((order, name, func))


def seeders():
    return sorted(_SEEDERS, key=lambda s: s[0])


# Load generators for `generate_load --tips N`: each app adds its share (tips, then leads in proportion).
_LOADERS: list[tuple[int, str, object]] = []


def register_load(order: int, name: str, func) -> None:
    """func(*, tips: int, stdout, seed: int) -> dict of counts; runs after the apps below it."""
    if all(n != name for _o, n, _f in _LOADERS):
        _LOADERS.append((order, name, func))


def loaders():
    return sorted(_LOADERS, key=lambda s: s[0])


REGIONS = [
    ("jiefang", "解放区"),
    ("zhongzhan", "中站区"),
    ("macun", "马村区"),
    ("shanyang", "山阳区"),
    ("xiuwu", "修武县"),
    ("boai", "博爱县"),
    ("wuzhi", "武陟县"),
    ("wenxian", "温县"),
    ("qinyang", "沁阳市"),
    ("mengzhou", "孟州市"),
    ("shifanqu", "示范区"),
]

# code, name, short, kind, hotline, head, head title
UNITS = [
    (
        "office",
        "焦作市扫黑除恶专项斗争领导小组办公室",
        "市扫黑办",
        Unit.Kind.OFFICE,
        "0391-12337",
        "王建国",
        "市扫黑办主任",
    ),
    ("police", "焦作市公安局", "市公安局", Unit.Kind.POLICE, "110", "李振华", "局长"),
    ("housing", "焦作市住房和城乡建设局", "市住建局", Unit.Kind.DEPARTMENT, "0391-3568123", "张海涛", "局长"),
    ("transport", "焦作市交通运输局", "市交通运输局", Unit.Kind.DEPARTMENT, "0391-2921234", "刘志强", "局长"),
    (
        "natural_resources",
        "焦作市自然资源和规划局",
        "市自然资源和规划局",
        Unit.Kind.DEPARTMENT,
        "0391-3512345",
        "陈立民",
        "局长",
    ),
    (
        "agriculture",
        "焦作市农业农村局",
        "市农业农村局",
        Unit.Kind.DEPARTMENT,
        "0391-3923456",
        "赵永安",
        "局长",
    ),
    ("market", "焦作市市场监督管理局", "市市场监管局", Unit.Kind.DEPARTMENT, "12315", "孙明辉", "局长"),
    (
        "culture_tourism",
        "焦作市文化广电和旅游局",
        "市文化广电和旅游局",
        Unit.Kind.DEPARTMENT,
        "0391-12318",
        "周文静",
        "局长",
    ),
    ("petition", "焦作市信访局", "市信访局", Unit.Kind.DEPARTMENT, "0391-3568000", "吴国庆", "局长"),
    (
        "discipline",
        "中共焦作市纪律检查委员会 焦作市监察委员会",
        "市纪委监委",
        Unit.Kind.DISCIPLINE,
        "12388",
        "郑国栋",
        "书记、主任",
    ),
    ("finance", "焦作市地方金融监督管理局", "市金融局", Unit.Kind.DEPARTMENT, "0391-3661234", "钱伟", "局长"),
    ("civil_affairs", "焦作市民政局", "市民政局", Unit.Kind.DEPARTMENT, "0391-3569876", "冯丽", "局长"),
    ("court", "焦作市中级人民法院", "市中院", Unit.Kind.JUDICIAL, "0391-12368", "褚卫东", "院长"),
    ("procuratorate", "焦作市人民检察院", "市检察院", Unit.Kind.JUDICIAL, "12309", "卫红", "检察长"),
]

SECTORS = [
    ("land_demolition", "征地拆迁", "natural_resources", 40),
    ("construction", "工程建设", "housing", 60),
    ("building", "建筑工程", "housing", 40),
    ("transport", "交通运输", "transport", 50),
    ("mining", "矿产资源", "natural_resources", 30),
    ("fishing", "渔业捕捞", "agriculture", 10),
    ("markets", "商贸集市", "market", 30),
    ("wholesale", "批发市场", "market", 20),
    ("stations_docks", "车站码头", "transport", 15),
    ("tourism", "旅游景区", "culture_tourism", 15),
    ("lending", "金融放贷", "finance", 50),
    ("grassroots", "基层组织", "civil_affairs", 40),
]

USERS = [
    # username, role, unit, display name, office leader
    ("office", Role.OFFICE, "office", "杨晓燕", False),
    ("office_leader", Role.OFFICE, "office", "王建国", True),
    ("police", Role.POLICE, "police", "马俊", False),
    ("liaison_housing", Role.LIAISON, "housing", "何佳", False),
    ("liaison_transport", Role.LIAISON, "transport", "罗斌", False),
    ("liaison_natural_resources", Role.LIAISON, "natural_resources", "高原", False),
    ("liaison_market", Role.LIAISON, "market", "林静", False),
    ("unit_head_housing", Role.UNIT_HEAD, "housing", "张海涛", False),
    ("unit_head_transport", Role.UNIT_HEAD, "transport", "刘志强", False),
    ("leader", Role.LEADER, None, "郭副市长", False),
    ("discipline", Role.DISCIPLINE, "discipline", "郑国栋", False),
    ("admin", Role.ADMIN, "office", "系统管理员", False),
]


@transaction.atomic
def seed_campaign(stdout=None) -> dict:
    city, _ = Region.objects.get_or_create(
        code="jiaozuo", defaults={"name": "焦作市", "level": Region.Level.CITY}
    )
    for i, (code, name) in enumerate(REGIONS, start=1):
        Region.objects.get_or_create(code=code, defaults={"name": name, "parent": city, "sort_order": i})
    for i, (code, name, short, kind, hotline, head, head_title) in enumerate(UNITS, start=1):
        Unit.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "short_name": short,
                "kind": kind,
                "region": city,
                "hotline": hotline,
                "head_name": head,
                "head_title": head_title,
                "sort_order": i,
                "mailbox": f"焦作市人民路{100 + i}号 {short}举报信箱",
                "email": f"jubao_{code}@jiaozuo.gov.cn" if kind != Unit.Kind.POLICE else "",
                "address": f"焦作市人民路{100 + i}号",
            },
        )
    units = {u.code: u for u in Unit.objects.all()}
    for i, (code, name, unit_code, expected) in enumerate(SECTORS, start=1):
        Sector.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "lead_unit": units[unit_code],
                "sort_order": i,
                "expected_leads_per_year": expected,
            },
        )
    if not Phase.objects.exists():
        p1 = Phase.objects.create(
            name="2026年常态化扫黑除恶 线索清仓攻坚",
            starts_on=dt.date(2026, 1, 1),
            ends_on=dt.date(2026, 6, 30),
            description="集中清理积压线索，逐条见底销号。",
        )
        p2 = Phase.objects.create(
            name="2026年下半年 重点行业领域整治",
            starts_on=dt.date(2026, 7, 1),
            ends_on=dt.date(2026, 12, 31),
            description="聚焦工程建设、交通运输、金融放贷等行业乱象。",
        )
        p2.focus_sectors.set(Sector.objects.filter(code__in=["construction", "transport", "lending"]))
        p1.focus_sectors.set(Sector.objects.filter(code__in=["land_demolition", "mining"]))
    created = 0
    for username, role, unit_code, display, office_leader in USERS:
        user, was_created = User.objects.get_or_create(
            username=username,
            defaults={
                "role": role,
                "unit": units.get(unit_code) if unit_code else None,
                "display_name": display,
                "is_office_leader": office_leader,
                "is_staff": role == Role.ADMIN,
                "is_superuser": role == Role.ADMIN,
                "email": f"{username}@saohei.local",
                "phone": "1390391" + str(1000 + len(username))[-4:],
            },
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            created += 1
    from .models import CalendarYear
    from .services import calendar_seed_from_package

    if not CalendarYear.objects.exists():
        calendar_seed_from_package()
    return {"users_created": created}
