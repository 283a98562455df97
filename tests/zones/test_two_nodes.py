"""A public node and an internal node side by side on loopback, each with its own database, the
transfer running through a proxy that can cut, alter and replay the traffic between them.

The internal side's exchanges run as `manage.py transfer sync` processes, as beat would run them.
"""

import http.client
import http.cookiejar
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from .test_transfer_services import png_bytes

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

DESCRIPTION = "孟州市某物流园有人组织“车霸”团伙，强迫货车交保护费，不交就砸车。"
NAME, PHONE, ID_NUMBER = "钱七", "13600002222", "110101199003076333"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _conninfo(dbname: str) -> str:
    db = settings.DATABASES["default"]
    parts = [f"host={db.get('HOST') or '127.0.0.1'}", f"port={db.get('PORT') or 5432}", f"dbname={dbname}"]
    if db.get("USER"):
        parts.append(f"user={db['USER']}")
    if db.get("PASSWORD"):
        parts.append(f"password={db['PASSWORD']}")
    return " ".join(parts)


def _url(dbname: str) -> str:
    db = settings.DATABASES["default"]
    auth = db.get("USER") or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{dbname}"


class Proxy:
    """Forwards the internal side's requests to the public node; `plan` says what to do to the next
    request per endpoint: "drop_request" (never reaches the public node), "drop_response" (reaches it,
    the answer is lost), "tamper_request", "tamper_response"."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.plan: dict[str, str] = {}
        self.seen: list[tuple[str, dict, bytes]] = []
        self.tampered: list[bool] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                action = self.path.rstrip("/").rsplit("/", 1)[-1]
                headers = {k: v for k, v in self.headers.items() if k.lower().startswith("x-zone")}
                proxy.seen.append((self.path, headers, body))
                step = proxy.plan.pop(action, "")
                if step == "drop_request":
                    self.close_connection = True
                    return
                if step == "tamper_request":
                    body = body.replace(b'"ids":[', b'"ids":["00000000-0000-0000-0000-000000000000",', 1)
                status, answer, answer_headers = proxy.forward(self.path, headers, body)
                if step == "drop_response":
                    self.close_connection = True
                    return
                if step == "tamper_response":
                    before = answer
                    answer = re.sub(
                        rb'("sealed": ?")(.)',
                        lambda m: m.group(1) + (b"B" if m.group(2) != b"B" else b"C"),
                        answer,
                        count=1,
                    )
                    proxy.tampered.append(before != answer)
                self.send_response(status)
                for key, value in answer_headers:
                    if key.lower() in ("content-type", "x-zone-signature"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def forward(self, path: str, headers: dict, body: bytes):
        conn = http.client.HTTPConnection("127.0.0.1", self.target_port, timeout=30)
        conn.request("POST", path, body=body, headers={**headers, "Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read(), resp.getheaders()


class Nodes:
    def __init__(self, base: Path):
        self.base = base
        suffix = uuid.uuid4().hex[:6]
        template = settings.DATABASES["default"]["NAME"]
        self.dbs = {"public": f"{template}_pub_{suffix}", "internal": f"{template}_int_{suffix}"}
        self.procs: list[subprocess.Popen] = []
        common = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.zones.node_settings",
            "REDIS_URL": settings.REDIS_URL,
            "ZONE_TRANSFER_KEY": secrets.token_hex(32),
            "PIN_HASH_KEY": "two-node-test-pin-hash-key",
            "PYTHONPATH": str(ROOT),
        }
        self.env = {
            zone: {
                **common,
                "PORTAL_ZONE": zone,
                "DATABASE_URL": _url(self.dbs[zone]),
                "PRIVATE_MEDIA_ROOT": str(base / f"{zone}-media"),
                "BACKUP_DIR": str(base / f"{zone}-backups"),
            }
            for zone in ("public", "internal")
        }
        with psycopg.connect(_conninfo("postgres"), autocommit=True) as admin:
            for zone, name in self.dbs.items():
                # The test database is migrated and empty: a template copy is a freshly migrated node.
                # When something else still holds a session on it (a live server thread), migrate instead.
                try:
                    admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                except psycopg.errors.ObjectInUse:
                    admin.execute(f'CREATE DATABASE "{name}"')
                    self.manage(zone, "migrate", "--noinput")

    def manage(self, zone: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env[zone],
            capture_output=True,
            text=True,
            timeout=180,
        )
        if check:
            assert proc.returncode == 0, f"{args}: {proc.stderr[-3000:]}{proc.stdout[-2000:]}"
        return proc

    def serve(self, zone: str) -> int:
        port = _free_port()
        log = open(self.base / f"{zone}-server.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=self.env[zone],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return port
            except OSError:
                assert proc.poll() is None, (self.base / f"{zone}-server.log").read_text()[-3000:]
                time.sleep(0.2)
        raise AssertionError(f"{zone} node did not start")

    def sync(self, *, check: bool = True) -> subprocess.CompletedProcess:
        return self.manage(
            "internal", "transfer", "sync", "--url", f"http://127.0.0.1:{self.proxy.port}", check=check
        )

    def query(self, zone: str, sql: str, params=()) -> list:
        with psycopg.connect(_conninfo(self.dbs[zone])) as conn:
            return conn.execute(sql, params).fetchall()

    def close(self):
        for proc in self.procs:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.proxy.server.shutdown()
        with psycopg.connect(_conninfo("postgres"), autocommit=True) as admin:
            for name in self.dbs.values():
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def nodes(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.db import connections

    with django_db_blocker.unblock():
        connections.close_all()  # CREATE DATABASE … TEMPLATE needs the template to have no sessions
    n = Nodes(tmp_path_factory.mktemp("two-nodes"))
    try:
        n.manage("internal", "shell", "-c", "from campaign.demo import seed_campaign; seed_campaign()")
        n.manage("internal", "zone_keys", "generate")
        n.public_port = n.serve("public")
        n.internal_port = n.serve("internal")
        n.proxy = Proxy(n.public_port)
        yield n
    finally:
        if hasattr(n, "proxy"):
            n.close()
        else:
            for proc in n.procs:
                proc.kill()


def api(port: int, path: str, payload: dict | None = None, *, body: bytes | None = None, headers=None):
    data = body if body is not None else json.dumps(payload).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=data,
        method="POST",
        headers=headers or {"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 — loopback test server
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def multipart(fields: dict, files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = b""
    for key, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
    for key, name, data in files:
        out += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{name}"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + data
            + b"\r\n"
        )
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def submit_tip(nodes, description: str = DESCRIPTION) -> dict:
    status, receipt = api(
        nodes.public_port, "/api/v1/public/tips/", {"description": description, "anonymous": True}
    )
    assert status == 201, receipt
    return receipt


def test_tip_crosses_to_the_internal_register_and_the_conversation_goes_both_ways(nodes):
    first = nodes.sync()  # sends the sealing key and the reference data to the new public node
    assert '"published"' in first.stdout
    body, content_type = multipart(
        {
            "description": DESCRIPTION,
            "sector": "transport",
            "region": "mengzhou",
            "anonymous": "false",
            "reporter_name": NAME,
            "reporter_phone": PHONE,
            "reporter_id_number": ID_NUMBER,
        },
        [("attachments", "砸车现场.png", png_bytes())],
    )
    status, receipt = api(
        nodes.public_port, "/api/v1/public/tips/", body=body, headers={"Content-Type": content_type}
    )
    assert status == 201, receipt
    code, pin = receipt["tracking_code"], receipt["pin"]

    # The public node holds it sealed: a dump of its database has no description and no identity.
    from transfer import pgtools

    with psycopg.connect(_conninfo(nodes.dbs["public"])) as conn:
        server = conn.info.server_version // 10000
    pg_dump = pgtools.find_tool("pg_dump", min_major=server, prefer_major=server)
    dump = subprocess.run(
        [str(pg_dump.path), "--format=plain", "--dbname", _url(nodes.dbs["public"])],
        capture_output=True,
        check=True,
    ).stdout
    assert code.encode() in dump  # the receipt is there …
    for secret in (DESCRIPTION, "车霸", NAME, PHONE, ID_NUMBER, "砸车现场"):
        assert secret.encode() not in dump, secret  # … nothing the informant wrote is
    assert png_bytes()[16:48] not in dump

    result = json.loads(nodes.sync().stdout)
    assert result["imported"] == 1 and result["acked"] == 1
    rows = nodes.query(
        "internal",
        "SELECT id, description, identity_masked->>'phone', channel FROM reports_tip WHERE tracking_code = %s",
        [code],
    )
    assert (
        len(rows) == 1
        and rows[0][1] == DESCRIPTION
        and rows[0][2] == "136****2222"
        and rows[0][3] == "online"
    )
    tip_id = rows[0][0]
    (sha,) = nodes.query("internal", "SELECT sha256 FROM reports_tipattachment WHERE tip_id = %s", [tip_id])[
        0
    ]
    import hashlib

    assert sha == hashlib.sha256(png_bytes()).hexdigest()
    assert nodes.query("public", "SELECT count(*) FROM transfer_sealedsubmission")[0][0] == 0

    # Seen in the internal portal's own API, by office staff.
    token = nodes.manage("internal", "drf_create_token", "office").stdout.split()[2]
    request = urllib.request.Request(
        f"http://127.0.0.1:{nodes.internal_port}/api/v1/tips/{tip_id}/",
        headers={"Authorization": f"Token {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
        assert json.loads(resp.read())["tracking_code"] == code

    # The office writes to the informant and accepts the tip; the next exchange publishes both.
    nodes.manage(
        "internal",
        "shell",
        "-c",
        "from campaign.models import User; from reports import services as s; "
        f"office = User.objects.get(username='office'); "
        f"s.tip_message_send(tip_id={tip_id}, actor=office, body='请问车霸团伙一般在什么时间出现？'); "
        f"s.tip_record_triage(tip_id={tip_id}, status='registered', actor=office)",
    )
    nodes.sync()
    status, followup = api(
        nodes.public_port, "/api/v1/public/tips/status/", {"tracking_code": code, "pin": pin}
    )
    assert status == 200 and followup["status"] == "accepted"
    assert [m["body"] for m in followup["messages"]] == ["请问车霸团伙一般在什么时间出现？"]

    # The informant's follow-up page on the public node shows it too.
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = browser.open(f"http://127.0.0.1:{nodes.public_port}/track/", timeout=30).read().decode()
    token_field = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token_field, "tracking_code": code, "pin": pin}
    ).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{nodes.public_port}/track/",
        data=form,
        headers={"Referer": f"http://127.0.0.1:{nodes.public_port}/track/"},
    )
    detail = browser.open(request, timeout=30).read().decode()
    assert "请问车霸团伙一般在什么时间出现？" in detail and "已受理" in detail

    # The informant answers; the reply comes back to the internal thread, and only there in plain text.
    status, _ = api(
        nodes.public_port,
        "/api/v1/public/tips/messages/",
        {"tracking_code": code, "pin": pin, "body": "一般是每天凌晨四点，在物流园东门。"},
    )
    assert status == 201
    nodes.sync()
    thread = nodes.query(
        "internal", "SELECT direction, body FROM reports_tipmessage WHERE tip_id = %s ORDER BY id", [tip_id]
    )
    assert thread == [
        ("to_informant", "请问车霸团伙一般在什么时间出现？"),
        ("from_informant", "一般是每天凌晨四点，在物流园东门。"),
    ]
    assert not nodes.query("public", "SELECT 1 FROM transfer_publishedentry WHERE text LIKE '%%凌晨四点%%'")


def _count_by_code(nodes, codes):
    rows = nodes.query(
        "internal",
        "SELECT tracking_code, count(*) FROM reports_tip WHERE tracking_code = ANY(%s) GROUP BY 1",
        [codes],
    )
    return dict(rows)


def test_transfer_cut_halfway_and_repeated_delivers_each_tip_exactly_once(nodes):
    codes = [submit_tip(nodes, f"第{i}条：某砂石场强买强卖。")["tracking_code"] for i in range(3)]

    # Cut before the acknowledgement reaches the public node: imported here, still waiting there.
    nodes.proxy.plan["ack"] = "drop_request"
    assert nodes.sync(check=False).returncode != 0
    assert _count_by_code(nodes, codes) == dict.fromkeys(codes, 1)
    assert nodes.query("public", "SELECT count(*) FROM transfer_sealedsubmission")[0][0] == 3

    # Repeated: recognised by submission id, acknowledged, no second tip.
    result = json.loads(nodes.sync().stdout)
    assert result["duplicate"] == 3 and result["imported"] == 0 and result["acked"] == 3
    assert _count_by_code(nodes, codes) == dict.fromkeys(codes, 1)
    assert nodes.query("public", "SELECT count(*) FROM transfer_sealedsubmission")[0][0] == 0

    # Cut after the public node deleted them but before its answer arrived: nothing lost, nothing doubled.
    more = [submit_tip(nodes, f"第{i}条：某市场欺行霸市。")["tracking_code"] for i in range(2)]
    nodes.proxy.plan["ack"] = "drop_response"
    assert nodes.sync(check=False).returncode != 0
    result = json.loads(nodes.sync().stdout)
    assert result["imported"] == 0 and result["duplicate"] == 0
    assert _count_by_code(nodes, codes + more) == dict.fromkeys(codes + more, 1)

    # Cut while pushing published status: pushed again next time, shown once.
    nodes.manage(
        "internal",
        "shell",
        "-c",
        "from campaign.models import User; from reports.models import Tip; from reports import services as s; "
        f"t = Tip.objects.get(tracking_code='{more[0]}'); "
        "s.tip_message_send(tip_id=t.pk, actor=User.objects.get(username='office'), body='已收到，感谢。')",
    )
    nodes.proxy.plan["push"] = "drop_response"
    assert nodes.sync(check=False).returncode != 0
    nodes.sync()
    rows = nodes.query(
        "public",
        "SELECT count(*) FROM transfer_publishedentry e JOIN transfer_receipt r ON r.id = e.receipt_id "
        "WHERE r.tracking_code = %s AND e.kind = 'office_message'",
        [more[0]],
    )
    assert rows[0][0] == 1


def test_tampered_and_replayed_payloads_are_refused_and_logged(nodes):
    code = submit_tip(nodes, "某村干部纵容亲属强占集体土地。")["tracking_code"]

    # An answer altered on the way (a changed byte of a sealed submission) is refused by the internal side.
    nodes.proxy.plan["pull"] = "tamper_response"
    proc = nodes.sync(check=False)
    assert nodes.proxy.tampered == [True]
    assert proc.returncode != 0 and "签名校验" in proc.stderr
    assert _count_by_code(nodes, [code]) == {}
    assert (
        nodes.query("internal", "SELECT count(*) FROM transfer_transferlog WHERE action = 'refused'")[0][0]
        >= 1
    )

    # A request altered on the way (an id slipped into an acknowledgement) is refused by the public node.
    nodes.proxy.plan["ack"] = "tamper_request"
    assert nodes.sync(check=False).returncode != 0
    assert nodes.query("public", "SELECT count(*) FROM transfer_sealedsubmission")[0][0] == 1
    reasons = [
        r[0]
        for r in nodes.query(
            "public", "SELECT detail->>'reason' FROM transfer_transferlog WHERE action = 'refused'"
        )
    ]
    assert "bad signature" in reasons

    # The tip is imported by the next clean exchange (the altered one imported it already: acknowledged now).
    nodes.sync()
    assert _count_by_code(nodes, [code]) == {code: 1}

    # A recorded, correctly signed request sent again is refused as a replay.
    path, headers, body = next(s for s in reversed(nodes.proxy.seen) if s[0].endswith("/ack/"))
    status, _answer, _h = nodes.proxy.forward(path, headers, body)
    assert status == 409
    reasons = [
        r[0]
        for r in nodes.query(
            "public", "SELECT detail->>'reason' FROM transfer_transferlog WHERE action = 'refused'"
        )
    ]
    assert "replayed nonce" in reasons
