"""Demo data (`seed_demo`) and the load generator (`generate_load --tips N`) for the reports app."""

import datetime as dt
import io
import json
import random
import struct
import time
import zipfile
import zlib
from decimal import Decimal

from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone

from campaign.models import PublicityActivity, Region, Sector, Unit, User

from . import crypto, services, uploads
from .demo_text import (
    CLOSINGS,
    DURATIONS,
    GIVEN,
    INFORMANT_REPLIES,
    NICKS,
    OPENINGS,
    ORG_KINDS,
    ORG_WORDS,
    PUBLICITY_BY_KIND,
    SCENARIOS,
    STAFF_REPLIES,
    SURNAMES,
    TYPICAL_CASES,
    VILLAGE_TAILS,
    VILLAGES,
)
from .models import Channel, PublicStatus, Reward, Tip, TipEvent, TipMessage, TipStatus, TypicalCase

DEMO_SEED = 20260301

# Fictional informants (ID numbers carry valid check digits; phone numbers are in unallocated ranges).
DEMO_IDENTITIES = [
    {
        "name": "李建华",
        "phone": "13903911234",
        "id_number": "41080219780512003X",
        "address": "焦作市解放区民主路18号",
    },
    {"name": "王秀兰", "phone": "15639101122", "address": "修武县城关镇北街"},
    {"name": "张志强", "phone": "18639112345", "id_number": "410821198811234512"},
    {"name": "赵红梅", "phone": "0391-3561234", "contact": "微信 zhm_jz"},
    {"name": "陈国庆", "phone": "13837155678", "address": "武陟县木城镇"},
    {"name": "刘海洋", "phone": "17739108899", "id_number": "41088319920315001X"},
]


# --- tiny but real files (so content checks accept them) ------------------------------------------
def _png(width: int = 240, height: int = 160, seed: int = 0) -> bytes:
    rng = random.Random(seed)
    base = [rng.randint(60, 200) for _ in range(3)]
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            shade = (x * 255 // width + y * 128 // height) % 256
            row += bytes(((base[0] + shade) % 256, (base[1] + shade // 2) % 256, (base[2] + y) % 256))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def _pdf(title: str) -> bytes:
    text = f"BT /F1 14 Tf 72 720 Td ({title}) Tj ET".encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(text)).encode() + b" >>\nstream\n" + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _docx(text: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/'
            'document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.'
            'main+xml"/></Types>',
        )
        z.writestr(
            "word/document.xml",
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            f'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>',
        )
    return out.getvalue()


def _checked(name: str, content: bytes) -> uploads.CheckedFile:
    return uploads.check_upload(SimpleUploadedFile(name, content))


# --- seed_demo -----------------------------------------------------------------------------------
STATUS_PLAN = ["new", "accepted", "verifying", "concluded", "rejected", "merged_or_duplicate"]
# Online most often, and every other channel at least three times over the 36 demo tips.
CHANNEL_PLAN = [
    Channel.ONLINE,
    Channel.PHONE,
    Channel.LETTER,
    Channel.ONLINE,
    Channel.MAILBOX,
    Channel.VISIT,
    Channel.ONLINE,
    Channel.HIGHER,
    Channel.PLATFORM_12337,
    Channel.ONLINE,
    Channel.PETITION,
    Channel.CRIMINAL_CASE,
    Channel.ONLINE,
    Channel.SECURITY_CASE,
    Channel.PHONE,
]


def _has_messages(index: int) -> bool:
    return index % 5 in (0, 1) or index in (9, 12)


REFERENCES = {
    Channel.LETTER: "来信〔{y}〕{n}号",
    Channel.HIGHER: "豫扫黑办转〔{y}〕{n}号",
    Channel.PLATFORM_12337: "12337-{y}-{n:06d}",
    Channel.PETITION: "焦信转〔{y}〕{n}号",
    Channel.CRIMINAL_CASE: "焦公刑案〔{y}〕{n}号",
    Channel.SECURITY_CASE: "焦公治案〔{y}〕{n}号",
}


def _grant_reveal_permission() -> None:
    perm = Permission.objects.get(codename="reveal_identity", content_type__app_label="reports")
    for user in User.objects.filter(username__in=["office", "office_leader"]):
        user.user_permissions.add(perm)


def seed_reports(stdout=None) -> dict:
    """A few dozen tips over every channel, sector and region, with messages, files, rewards and cases."""
    _grant_reveal_permission()
    rng = random.Random(DEMO_SEED)
    users = {
        u.username: u
        for u in User.objects.filter(username__in=["office", "office_leader", "police", "leader"])
    }
    sectors = list(Sector.objects.select_related("lead_unit").order_by("sort_order", "code"))
    counties = list(Region.objects.filter(level=Region.Level.COUNTY).order_by("sort_order", "code"))
    police = Unit.objects.filter(code="police").first()
    now = timezone.now()
    specs = []
    for s_index, sector in enumerate(sectors):
        for j, (description, accused, location) in enumerate(SCENARIOS.get(sector.code, [])):
            specs.append((sector, description, accused, location, s_index * 3 + j))
    created = 0
    shown: list[tuple[str, str, str]] = []
    for sector, description, accused, location, i in specs:
        # Each tip has its own seeded generator: a second run recognises what the first one made,
        # whatever was created or skipped before it.
        rng = random.Random(f"{DEMO_SEED}-{i}")
        code = crypto.tracking_code_normalize(
            "".join(rng.choice(crypto.TRACKING_ALPHABET) for _ in range(12))
        )
        pin = "".join(rng.choice("0123456789") for _ in range(6))
        channel = CHANNEL_PLAN[i % len(CHANNEL_PLAN)]
        named = i % 3 == 1 or i in (0, 9)
        plan = STATUS_PLAN[i % len(STATUS_PLAN)]
        days = {"new": (0, 5), "accepted": (8, 30), "verifying": (30, 90), "concluded": (90, 280)}.get(
            plan, (15, 200)
        )
        received_at = now - dt.timedelta(
            days=rng.randint(*days), hours=rng.randint(0, 23), minutes=rng.randint(0, 59)
        )
        region = counties[i % len(counties)] if counties else None
        identity = DEMO_IDENTITIES[i % len(DEMO_IDENTITIES)] if named else {}
        files = []
        if channel == Channel.ONLINE and i % 2 == 0:
            files.append(_checked(f"现场照片{i + 1}.png", _png(seed=i)))
        if channel in (Channel.LETTER, Channel.PETITION, Channel.HIGHER, Channel.MAILBOX):
            files.append(_checked(f"来件扫描件-{i + 1}.pdf", _pdf(f"Scanned letter No. {i + 1}")))
        if channel in (Channel.CRIMINAL_CASE, Channel.SECURITY_CASE):
            files.append(_checked(f"案件材料-{i + 1}.docx", _docx("案件基本情况（演示）")))
        if Tip.objects.filter(tracking_code=code).exists():
            tip = Tip.objects.get(tracking_code=code)
        else:
            tip = _seed_one(
                code=code,
                pin=pin,
                sector=sector,
                region=region,
                description=description,
                accused=accused,
                location=f"{region.name if region else ''}{location}",
                occurred_at=(received_at - dt.timedelta(days=rng.randint(3, 60))).date(),
                channel=channel,
                identity=identity,
                files=files,
                received_at=received_at,
                plan=plan,
                index=i,
                users=users,
                police=police,
                rng=rng,
            )
            created += 1
        # Print one anonymous online tip with a conversation, and one named online tip.
        kind = "实名" if named else "匿名"
        if (
            channel == Channel.ONLINE
            and (named or _has_messages(i))
            and not any(k == kind for _c, _p, k in shown)
        ):
            shown.append((tip.tracking_code, pin, kind))
    rewards = _seed_rewards(users)
    cases = _seed_cases(users)
    publicity = _seed_publicity(users, rng)
    if stdout is not None:
        for code, pin, kind in shown[:2]:
            stdout.write(f"  演示举报（{kind}）查询码 {code}  查询密码 {pin}")
    return {
        "tips_created": created,
        "rewards_created": rewards,
        "cases_created": cases,
        "publicity_created": publicity,
    }


@transaction.atomic
def _seed_one(
    *, code, pin, plan, index, users, police, rng, received_at, channel, files, identity, **fields
) -> Tip:
    staff = users.get("police") if index % 2 else users.get("office")
    staff_entered = channel != Channel.ONLINE
    reference = ""
    if channel in REFERENCES:
        reference = REFERENCES[channel].format(y=received_at.year, n=100 + index * 7)
    tip, _pin = services.tip_submit(
        channel=channel,
        anonymous=not identity,
        identity=identity,
        attachments=files,
        received_at=received_at if staff_entered else None,
        original_reference=reference,
        created_by=staff if staff_entered else None,
        **fields,
    )
    Tip.objects.filter(pk=tip.pk).update(
        tracking_code=code, pin_hash=crypto.pin_hash(tracking_code=code, pin=pin), received_at=received_at
    )
    tip.refresh_from_db()
    office = users.get("office")
    unit = tip.sector.lead_unit if tip.sector and index % 4 else police
    if plan in ("accepted", "verifying", "concluded"):
        services.tip_record_triage(
            tip_id=tip.pk,
            status=TipStatus.REGISTERED,
            actor=office,
            note="符合受理范围，登记为线索。",
            unit=unit,
        )
        if plan in ("verifying", "concluded"):
            services.tip_set_public_status(
                tip_ids=[tip.pk], public_status=PublicStatus.VERIFYING, actor=office
            )
        if plan == "concluded":
            services.tip_set_public_status(
                tip_ids=[tip.pk],
                public_status=PublicStatus.CONCLUDED,
                actor=office,
                conclusion="经核查，您反映的问题基本属实，有关部门已依法处理。",
            )
    elif plan == "rejected":
        services.tip_record_triage(
            tip_id=tip.pk,
            status=TipStatus.REJECTED,
            actor=office,
            note="反映的是一般民事纠纷，不属于涉黑涉恶线索，已告知当事人通过诉讼途径解决。",
        )
    elif plan == "merged_or_duplicate":
        earlier = (
            Tip.objects.filter(sector=tip.sector, received_at__lt=tip.received_at).exclude(pk=tip.pk).first()
        )
        status = TipStatus.DUPLICATE if earlier and index % 2 else TipStatus.MERGED
        services.tip_record_triage(
            tip_id=tip.pk,
            status=status,
            actor=office,
            note="与已登记线索反映同一问题。",
            unit=unit,
            duplicate_of_id=earlier.pk if earlier and status == TipStatus.DUPLICATE else None,
        )
    # History happens after receipt and before now: offsets are squeezed to fit recent tips.
    room = timezone.now() - received_at

    def when(offset: dt.timedelta, share: float) -> dt.datetime:
        return received_at + min(offset, room * share)

    if _has_messages(index):
        message = services.tip_message_send(tip_id=tip.pk, actor=office, body=STAFF_REPLIES[index % 3])
        TipMessage.objects.filter(pk=message.pk).update(created_at=when(dt.timedelta(days=1, hours=2), 0.5))
        if index % 2 == 0:
            reply_files = [_checked("补充照片.png", _png(seed=index + 100))] if index % 4 == 0 else []
            reply = services.tip_message_reply(
                tip_id=tip.pk, body=INFORMANT_REPLIES[index % 3], attachments=reply_files
            )
            TipMessage.objects.filter(pk=reply.pk).update(created_at=when(dt.timedelta(days=2, hours=5), 0.8))
    events = list(tip.events.order_by("at", "id"))
    offsets, total = [], dt.timedelta()
    for step, event in enumerate(events):
        if step and event.kind != "entered":
            total += dt.timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 8))
        offsets.append(total)
    scale = min(1.0, (room * 0.9) / total) if total else 1.0
    for step, (event, offset) in enumerate(zip(events, offsets, strict=True)):
        at = received_at + offset * scale + dt.timedelta(seconds=step)
        TipEvent.objects.filter(pk=event.pk).update(at=at)
        if event.kind == "triage":
            Tip.objects.filter(pk=tip.pk).update(triaged_at=at)
    return tip


def _seed_rewards(users) -> int:
    office, leader = users.get("office"), users.get("leader")
    if not office or not leader or Reward.objects.exists():
        return 0
    concluded = list(
        Tip.objects.filter(public_status=PublicStatus.CONCLUDED, status=TipStatus.REGISTERED).order_by(
            "received_at"
        )[:3]
    )
    made = 0
    for n, tip in enumerate(concluded):
        reward = services.reward_propose(
            tip_id=tip.pk,
            actor=office,
            amount=Decimal(["5000", "20000", "3000"][n]),
            basis=[Reward.Basis.GENERAL, Reward.Basis.IMPORTANT, Reward.Basis.GENERAL][n],
            lead_result=Reward.LeadResult.SUBSTANTIATED,
            basis_note="线索经查证属实，对打击涉黑涉恶犯罪起到了重要作用。",
        )
        made += 1
        if n >= 1:
            services.reward_decide(reward_id=reward.pk, actor=leader, approve=True, note="同意。")
        if n == 1:
            services.reward_record_payment(
                reward_id=reward.pk,
                actor=office,
                paid_on=timezone.localdate(),
                method=Reward.PaymentMethod.BANK,
                reference="JZ-JL-2026-0012",
            )
    return made


def _seed_cases(users) -> int:
    office = users.get("office")
    if not office or TypicalCase.objects.exists():
        return 0
    sectors = {s.code: s for s in Sector.objects.all()}
    regions = {r.code: r for r in Region.objects.all()}
    for n, (title, summary, outcome, sector, region) in enumerate(TYPICAL_CASES):
        case = services.typical_case_save(
            actor=office,
            title=title,
            summary=summary,
            outcome=outcome,
            sector=sectors.get(sector),
            region=regions.get(region),
        )
        services.typical_case_publish(case_id=case.pk, actor=office, publish=True)
        TypicalCase.objects.filter(pk=case.pk).update(
            published_on=timezone.localdate() - dt.timedelta(days=30 * n + 7)
        )
    return len(TYPICAL_CASES)


def _seed_publicity(users, rng) -> int:
    office = users.get("office")
    if not office or PublicityActivity.objects.exists():
        return 0
    units = list(
        Unit.objects.filter(
            code__in=["office", "police", "housing", "transport", "market", "culture_tourism"]
        )
    )
    kinds = PublicityActivity.Kind.values
    made = 0
    for n in range(18):
        unit = units[n % len(units)]
        kind = kinds[n % len(kinds)]
        places, reaches = PUBLICITY_BY_KIND.get(kind, (("人民广场",), (100,)))
        services.publicity_record(
            actor=office,
            unit=unit,
            held_on=timezone.localdate() - dt.timedelta(days=rng.randint(1, 300)),
            kind=kind,
            place=places[n % len(places)],
            reach=rng.choice(reaches),
            description="宣传扫黑除恶举报渠道和奖励办法，发放宣传资料，现场解答群众咨询。",
        )
        made += 1
    return made


# --- generate_load -------------------------------------------------------------------------------
CHANNEL_WEIGHTS_START = {
    "online": 25,
    "phone": 22,
    "letter": 18,
    "mailbox": 8,
    "visit": 8,
    "higher": 6,
    "platform_12337": 6,
    "petition": 4,
    "criminal_case": 2,
    "security_case": 1,
}
CHANNEL_WEIGHTS_END = {
    "online": 58,
    "phone": 14,
    "letter": 5,
    "mailbox": 3,
    "visit": 4,
    "higher": 5,
    "platform_12337": 7,
    "petition": 2,
    "criminal_case": 1,
    "security_case": 1,
}
BATCH = 20000
BIG_LOAD = 100_000  # from here on the trigram indexes are dropped during the load and rebuilt once
TRIGRAM_INDEXES = {"tip_description_trgm": "description", "tip_accused_trgm": "accused"}


class _TextMaker:
    """Builds varied tip texts quickly from the scenarios and name pools."""

    def __init__(self, rng: random.Random, sectors):
        self.rng = rng
        self.by_sector = {s.code: SCENARIOS.get(s.code) or SCENARIOS["construction"] for s in sectors}

    def person(self) -> str:
        r = self.rng
        return r.choice(SURNAMES) + r.choice(GIVEN) + (r.choice(GIVEN) if r.random() < 0.6 else "")

    def nick(self) -> str:
        r = self.rng
        return r.choice(SURNAMES) + r.choice(NICKS)

    def org(self) -> str:
        r = self.rng
        return "焦作市" + r.choice(ORG_WORDS) + r.choice(ORG_WORDS) + r.choice(ORG_KINDS)

    def village(self) -> str:
        r = self.rng
        return r.choice(SURNAMES) + r.choice(VILLAGES) + r.choice(VILLAGE_TAILS)

    def make(self, sector_code: str, region_name: str) -> tuple[str, str, str]:
        r = self.rng
        description, _accused, location = r.choice(self.by_sector[sector_code])
        who = self.person()
        extra = r.random()
        detail = ""
        if extra < 0.3:
            detail = f"带头的叫{who}，电话1{r.choice('3578')}{r.randint(100000000, 999999999)}。"
        elif extra < 0.55:
            detail = f"他们的公司叫{self.org()}。"
        elif extra < 0.7:
            detail = f"这种情况已经{r.choice(DURATIONS)}了。"
        text = f"{r.choice(OPENINGS)}{region_name}{self.village()}附近，{description}{detail}{r.choice(CLOSINGS)}"
        accused = f"{who}（外号“{self.nick()}”）" if r.random() < 0.5 else f"{who}；{self.org()}"
        return text, accused, f"{region_name}{self.village()}{location}"


def _reserve_ids(table: str, count: int) -> int:
    """Take `count` ids from the table's sequence in one step; returns the first.

    Good enough for a load generator (it assumes nothing else inserts tips at the same moment)."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        seq = cur.fetchone()[0]
        cur.execute("SELECT nextval(%s)", [seq])
        first = cur.fetchone()[0]
        cur.execute("SELECT setval(%s, %s)", [seq, first + count - 1])
    return first


def _drop_trigram_indexes() -> bool:
    with connection.cursor() as cur:
        for name in TRIGRAM_INDEXES:
            cur.execute(f'DROP INDEX IF EXISTS "{name}"')
    return True


def _create_trigram_index(name: str, column: str) -> None:
    try:
        with connection.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '256MB'")
            cur.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "reports_tip" USING gin ("{column}" gin_trgm_ops)'
            )
    finally:
        connection.close()  # this thread's own connection


def _create_trigram_indexes() -> None:
    """Recreate exactly what migration 0001 made (same names and definitions), both at once: GIN builds
    use one core each, and there are two."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(TRIGRAM_INDEXES)) as pool:
        for future in [pool.submit(_create_trigram_index, n, c) for n, c in TRIGRAM_INDEXES.items()]:
            future.result()


class _TipRows:
    """Generates the rows of one batch of load tips."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.sectors = list(Sector.objects.select_related("lead_unit").order_by("sort_order"))
        self.regions = list(Region.objects.filter(level=Region.Level.COUNTY).order_by("sort_order"))
        if not self.sectors or not self.regions:
            raise RuntimeError("seed the campaign reference data first (seed_demo)")
        self.police = Unit.objects.filter(code="police").first()
        self.staff = list(
            User.objects.filter(role__in=["office", "police"]).values_list("pk", flat=True)
        ) or [None]
        self.maker = _TextMaker(rng, self.sectors)
        # A handful of real encrypted identities, reused: encrypting per row would dominate the run time.
        people = list(DEMO_IDENTITIES) + [
            {"name": self.maker.person(), "phone": f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"}
            for _ in range(14)
        ]
        self.identities = [
            (crypto.encrypt_identity(p), json.dumps(crypto.mask_identity(p), ensure_ascii=False))
            for p in people
        ]
        self.received_text = services.PUBLIC_STATUS_TEXT[PublicStatus.RECEIVED]
        self.channels = list(CHANNEL_WEIGHTS_START)
        self.now = timezone.now()
        self.span = dt.timedelta(days=3 * 365)
        self.start = self.now - self.span
        self.columns = [f for f in Tip._meta.concrete_fields if f.name != "id"]
        defaults = {f.attname: f.get_default() for f in self.columns}
        self.defaults = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in defaults.items()}

    def _status(self, age: int) -> tuple[str, str]:
        roll = self.rng.random()
        if age < 7:
            status = "new" if roll < 0.8 else "registered"
        elif age < 30:
            status = (
                "new"
                if roll < 0.25
                else "registered"
                if roll < 0.7
                else "rejected"
                if roll < 0.9
                else "duplicate"
            )
        else:
            status = (
                "registered"
                if roll < 0.55
                else "merged"
                if roll < 0.67
                else "duplicate"
                if roll < 0.77
                else "rejected"
                if roll < 0.99
                else "new"
            )
        public = {"new": "received", "rejected": "not_accepted", "duplicate": "accepted"}.get(status)
        if public is None:
            public = "accepted" if age < 20 else ("verifying" if age < 75 else "concluded")
        return status, public

    def batch(self, first_id: int, n: int) -> tuple[list, list]:
        rng = self.rng
        tip_rows, event_rows = [], []
        for k in range(n):
            tip_id = first_id + k
            # Later dates slightly more likely (tips grow as publicity works), online growing at the
            # expense of letters and phone calls over the three years.
            frac = rng.random() ** 0.8
            received_at = self.start + self.span * frac
            weights = [
                CHANNEL_WEIGHTS_START[c] + (CHANNEL_WEIGHTS_END[c] - CHANNEL_WEIGHTS_START[c]) * frac
                for c in self.channels
            ]
            channel = rng.choices(self.channels, weights)[0]
            sector = rng.choice(self.sectors)
            region = rng.choice(self.regions)
            description, accused, location = self.maker.make(sector.code, region.name)
            age = (self.now - received_at).days
            status, public = self._status(age)
            unit_id = None
            if status in ("registered", "merged"):
                unit_id = self.police.pk if self.police and rng.random() < 0.2 else sector.lead_unit_id
            triaged_at = received_at + dt.timedelta(hours=rng.randint(2, 72)) if status != "new" else None
            concluded = public == "concluded"
            named = rng.random() < 0.35
            encrypted, masked = rng.choice(self.identities) if named else ("", "{}")
            chars = "".join(rng.choices(crypto.TRACKING_ALPHABET, k=12))
            code = f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"
            row = {
                "tracking_code": code,
                # Load tips are not followed up; one keyed hash per code keeps the column realistic.
                "pin_hash": crypto.pin_hash(tracking_code=code, pin="000000"),
                "channel": channel,
                "status": status,
                "public_status": public,
                "public_conclusion": "经核查，反映问题已依法处理。" if concluded else "",
                "description": description,
                "accused": accused,
                "sector_id": sector.pk,
                "region_id": region.pk,
                "location": location[:200],
                "occurred_at": (received_at - dt.timedelta(days=rng.randint(0, 180))).date()
                if rng.random() < 0.7
                else None,
                "anonymous": not named,
                "identity_encrypted": encrypted,
                "identity_masked": masked,
                "received_at": received_at,
                "original_reference": f"LD-{received_at.year}-{tip_id}"
                if channel not in ("online", "phone", "visit")
                else "",
                "created_by_id": rng.choice(self.staff) if channel != "online" else None,
                "unit_id": unit_id,
                # Load tips count as routed, so the catch-up sweep does not replay three years at once.
                "routed_at": received_at + dt.timedelta(minutes=1),
                "triaged_at": triaged_at,
                "triaged_by_id": self.staff[0] if triaged_at else None,
                "concluded_at": received_at + dt.timedelta(days=rng.randint(35, 75)) if concluded else None,
            }
            tip_rows.append([tip_id] + [row.get(f.attname, self.defaults[f.attname]) for f in self.columns])
            event_rows.append((tip_id, received_at, "public:received", True, self.received_text, "", "{}"))
        return tip_rows, event_rows


def _can_skip_fk_triggers(cur) -> bool:
    cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    row = cur.fetchone()
    return bool(row and row[0])


def _copy(tip_rows: list, event_rows: list, columns) -> None:
    names = ", ".join(f'"{f.column}"' for f in columns)
    with transaction.atomic(), connection.cursor() as cur:
        # A lost tail of a benchmark load on a crash is acceptable; waiting for each WAL flush is not.
        cur.execute("SET LOCAL synchronous_commit = off")
        if _can_skip_fk_triggers(cur):
            # Every id written here was just read from the database; per-row foreign-key checks only
            # cost time. Needs a superuser (development and benchmark databases); others keep them.
            cur.execute("SET LOCAL session_replication_role = replica")
        with cur.cursor.copy(f'COPY reports_tip ("id", {names}) FROM STDIN') as copy:
            for values in tip_rows:
                copy.write_row(values)
        with cur.cursor.copy(
            'COPY reports_tipevent ("tip_id", "at", "kind", "public", "public_text", "note", "data") FROM STDIN'
        ) as copy:
            for values in event_rows:
                copy.write_row(values)


def load_tips(*, tips: int, stdout=None, seed: int = 2026) -> dict:
    """Insert `tips` realistic tips over three years with COPY in batches, plus their received events."""
    if tips <= 0:
        return {"tips": 0}
    rows = _TipRows(random.Random(seed))
    started = time.monotonic()
    generate_s = copy_s = index_s = 0.0
    done = 0
    # Big loads build the trigram indexes once at the end: far cheaper than maintaining them row by row.
    rebuild = tips >= BIG_LOAD and _drop_trigram_indexes()
    try:
        while done < tips:
            n = min(BATCH, tips - done)
            t0 = time.monotonic()
            tip_rows, event_rows = rows.batch(_reserve_ids("reports_tip", n), n)
            t1 = time.monotonic()
            _copy(tip_rows, event_rows, rows.columns)
            generate_s += t1 - t0
            copy_s += time.monotonic() - t1
            done += n
            if stdout is not None and (done == tips or done % (BATCH * 5) == 0):
                elapsed = time.monotonic() - started
                stdout.write(
                    f"  tips {done}/{tips} in {elapsed:.1f}s ({done / max(elapsed, 0.001):.0f}/s; "
                    f"generate {generate_s:.1f}s, COPY {copy_s:.1f}s)"
                )
    finally:
        if rebuild:
            t0 = time.monotonic()
            _create_trigram_indexes()
            index_s = time.monotonic() - t0
            if stdout is not None:
                stdout.write(f"  trigram search indexes rebuilt in {index_s:.1f}s")
    with connection.cursor() as cur:
        cur.execute("ANALYZE reports_tip")
        cur.execute("ANALYZE reports_tipevent")
    return {
        "tips": done,
        "events": done,
        "generate_s": round(generate_s, 1),
        "copy_s": round(copy_s, 1),
        "index_s": round(index_s, 1),
        "seconds": round(time.monotonic() - started, 1),
    }
