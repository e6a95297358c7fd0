"""What an outbound call sends and reads, now that no requests session does it for us: its default
headers, a compressed answer decoded, no cookie kept, no redirect followed, TLS verified by name."""
from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import http.server
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app import outbound
from app.outbound import Outbound, TooLarge, Unreachable
from support.trickler import trickling

BODY = b"x" * 5000
GZIPPED = gzip.compress(BODY)
REDIRECT = (b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
            b"Content-Encoding: gzip\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(GZIPPED)) + GZIPPED


@pytest.fixture
def calls():
    client = Outbound(True)
    yield client
    client.close()


def test_a_call_sends_the_usual_headers_keeps_no_cookie_and_follows_no_redirect(calls):
    with trickling(0, answer=REDIRECT) as peer:
        first = calls.request("GET", peer.url + "/a", deadline=5, max_bytes=len(BODY))
        calls.request("POST", peer.url + "/b", deadline=5, max_bytes=len(BODY), body=b"{}",
                     headers={"accept": "text/turtle"})
        with pytest.raises(TooLarge):     # measured once decoded
            calls.request("GET", peer.url + "/c", deadline=5, max_bytes=len(BODY) - 1)
    assert (first.status, first.body, first.headers["set-cookie"]) == (302, BODY, "a=1, b=2")
    assert [path for _, path, _ in peer.requests] == ["/a", "/b", "/c"]
    sent = peer.requests[1][2]
    assert sent["accept"] == "text/turtle" and sent["accept-encoding"].startswith("gzip, deflate")
    assert sent["content-length"] == "2" and "cookie" not in sent


@pytest.mark.parametrize("value", ["Bearer a\r\nX: 1", "Bearer tok€"])
def test_a_header_value_a_header_cannot_carry_is_not_sent(calls, value):
    # A line break would inject a header; a character beyond Latin-1 raised UnicodeEncodeError (500).
    with trickling(0) as peer:
        with pytest.raises(Unreachable, match="Authorization"):
            calls.request("GET", peer.url, deadline=5, max_bytes=1000, headers={"Authorization": value})
    assert peer.requests == []


def test_a_refused_connection_is_unreachable_not_a_deadline(calls):
    """urllib3 makes a refused connection a kind of connect timeout; the deadline did not pass."""
    with trickling(0) as peer:
        url = peer.url
    with pytest.raises(Unreachable, match="Connection refused"):
        calls.request("GET", url, deadline=5, max_bytes=1000)


def test_tls_is_verified_against_the_name_the_pinned_connection_keeps(tmp_path, monkeypatch):
    cert = _self_signed("localhost", tmp_path)
    with _https(cert) as port:
        with pytest.raises(Unreachable, match="CERTIFICATE_VERIFY_FAILED"):      # not a CA we trust
            _get(f"https://localhost:{port}/")
        monkeypatch.setitem(outbound.TLS, "ca_certs", str(cert))
        assert _get(f"https://localhost:{port}/").body == b"ok"
        with pytest.raises(Unreachable, match="CERTIFICATE_VERIFY_FAILED"):      # trusted, for another name
            _get(f"https://127.0.0.1:{port}/")


def test_tls_trusts_certifis_bundle_as_requests_did():
    certifi = pytest.importorskip("certifi")
    assert outbound.TLS == {"cert_reqs": "CERT_REQUIRED", "ca_certs": certifi.where()}


def _get(url: str):
    client = Outbound(True)
    try:
        return client.request("GET", url, deadline=5, max_bytes=1000)
    finally:
        client.close()


def _self_signed(name: str, folder):
    """A certificate for `name` that is its own CA, key and certificate in one PEM file."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    path = folder / f"{name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return path


class _Ok(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def _https(cert):
    """An HTTPS server on 127.0.0.1 presenting `cert`; yields its port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
