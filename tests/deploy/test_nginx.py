"""deploy/nginx/connect.conf, run by Debian's nginx in front of a real uvicorn: TLS with HSTS, the websocket
upgrade, static files from the folder, the upload limit, X-Forwarded-For/-Proto as SECURITY.md asks, and an
upload handed on while it is still arriving (so nginx never holds a clip in its temp folders)."""

import datetime
import gzip
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from websockets.sync.client import connect as websocket_connect

from tests.conftest import free_port
from tests.deploy.packaging import ROOT

CONF = ROOT / "deploy" / "nginx" / "connect.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed (apt-get install nginx)")


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cameras.example.gov")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (folder / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "privkey.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return folder / "fullchain.pem", folder / "privkey.pem"


def wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{what} exited"
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=2).connect()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{what} did not listen on {port}")


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    """nginx with the sample config (only addresses, certificate and static paths changed) before a uvicorn."""
    folder = tmp_path_factory.mktemp("nginx")
    cert, key = self_signed(folder)
    static = folder / "static"
    (static / "registry").mkdir(parents=True)
    (static / "registry" / "map.css").write_text("body { color: navy }\n")
    (static / "registry" / "map.0123456789ab.css").write_text("body { color: navy }\n")  # as collectstatic names it
    (static / "registry" / "map.0123456789ab.css.gz").write_bytes(gzip.compress(b"body { color: navy }\n"))
    http_port, https_port, app_port = free_port(), free_port(), free_port()
    conf = CONF.read_text()
    conf = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", conf)
    conf = conf.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    conf = conf.replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl")
    conf = conf.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
    conf = conf.replace("/etc/ssl/connect/fullchain.pem", str(cert)).replace("/etc/ssl/connect/privkey.pem", str(key))
    conf = conf.replace("/opt/connect/var/static/", f"{static}/")
    (folder / "connect.conf").write_text(conf)
    temp = {name: folder / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    (folder / "nginx.conf").write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {temp["client_body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {folder}/connect.conf;
}}
""")
    check = subprocess.run([NGINX, "-t", "-p", str(folder), "-c", str(folder / "nginx.conf")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    app = subprocess.Popen([sys.executable, "-m", "uvicorn", "echo_app:app", "--app-dir", str(Path(__file__).parent),
                            "--port", str(app_port), "--lifespan", "off", "--log-level", "warning"])
    nginx = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf")])
    try:
        wait_for_port(app_port, app, "uvicorn")
        wait_for_port(https_port, nginx, "nginx")
        yield {"http": http_port, "https": https_port, "temp": temp, "static": static}
    finally:
        for process in (nginx, app):
            process.terminate()
            process.wait(timeout=30)


def tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def https(proxy) -> http.client.HTTPSConnection:
    return http.client.HTTPSConnection("127.0.0.1", proxy["https"], context=tls(), timeout=30)


def get(proxy, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    connection = https(proxy)
    connection.request("GET", path, headers={"Host": "cameras.example.gov", **(headers or {})})
    return connection.getresponse()


def test_nginx_accepts_the_sample(proxy):
    """nginx -t ran in the fixture; here what the file promises stays in it."""
    conf = CONF.read_text()
    limit = re.search(r"client_max_body_size (\d+)m;", conf).group(1)
    assert int(limit) == settings.UPLOAD_MAX_MB + 1  # the same allowance connect's body limit makes for the form
    for location in ("/evidence/", "~ ^/footage/[^/]+/uploads?/"):
        block = conf.split(f"location {location} {{", 1)[1].split("}", 1)[0]
        assert "proxy_buffering off;" in block, location
    assert "proxy_request_buffering off;" in conf and "proxy_max_temp_file_size 0;" in conf


def test_plain_http_is_sent_to_https(proxy):
    connection = http.client.HTTPConnection("127.0.0.1", proxy["http"], timeout=30)
    connection.request("GET", "/owner/", headers={"Host": "cameras.example.gov"})
    response = connection.getresponse()
    assert response.status == 301 and response.headers["Location"] == "https://cameras.example.gov/owner/"


def test_static_files_come_from_the_folder_with_hsts(proxy):
    response = get(proxy, "/static/registry/map.css")
    assert response.status == 200 and response.read() == b"body { color: navy }\n"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "nginx/" not in (response.headers["Server"] or "")


def test_hashed_static_files_are_kept_a_year_and_sent_gzipped_to_who_takes_it(proxy):
    response = get(proxy, "/static/registry/map.0123456789ab.css", {"Accept-Encoding": "gzip"})
    assert response.status == 200 and response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.read()) == b"body { color: navy }\n"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    plain = get(proxy, "/static/registry/map.css")
    assert "immutable" not in plain.headers["Cache-Control"] and "Content-Encoding" not in plain.headers


def test_an_upload_reaches_connect_while_it_is_still_arriving(proxy):
    total, first = 8 * 1024 * 1024, 256 * 1024
    upload = https(proxy)
    upload.putrequest("POST", "/footage/some-token/upload/stream/", skip_host=True)
    for name, value in {"Host": "cameras.example.gov", "Content-Length": str(total),
                        "Content-Type": "application/octet-stream", "X-Forwarded-For": "203.0.113.9"}.items():
        upload.putheader(name, value)
    upload.endheaders()
    upload.send(b"x" * first)
    deadline = time.monotonic() + 60
    seen = 0
    while time.monotonic() < deadline and not seen:
        seen = int(get(proxy, "/progress").read())
        time.sleep(0.05)
    assert seen > 0, "nginx held the upload back (request buffering): connect saw none of it yet"
    for _ in range((total - first) // first):
        upload.send(b"x" * first)
    answer = json.loads(upload.getresponse().read())
    assert answer["received"] == total
    assert answer["host"] == "cameras.example.gov"
    assert answer["forwarded_proto"] == "https"
    # The client's own header is kept and the address nginx saw appended: CONNECT_TRUSTED_PROXIES=1 takes the last.
    assert answer["forwarded_for"] == "203.0.113.9, 127.0.0.1"
    assert not any(path.is_file() for folder in proxy["temp"].values() if folder.exists()
                   for path in folder.rglob("*"))


def test_an_upload_over_the_limit_is_refused_by_nginx(proxy):
    connection = https(proxy)
    connection.putrequest("POST", "/footage/some-token/upload/stream/", skip_host=True)
    connection.putheader("Host", "cameras.example.gov")
    connection.putheader("Content-Length", str((settings.UPLOAD_MAX_MB + 1) * 1024 * 1024 + 1))
    connection.endheaders()
    assert connection.getresponse().status == 413


def test_websockets_are_upgraded_through_the_proxy(proxy):
    with websocket_connect(f"wss://127.0.0.1:{proxy['https']}/ws/echo/", ssl=tls(), open_timeout=30) as socket:
        socket.send("hello")
        assert socket.recv(timeout=30) == "echo:hello"
