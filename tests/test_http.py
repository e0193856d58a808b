"""http.py follows redirects only to http(s) on public addresses (issue 9), against a real
local server that answers redirects as any HTTP server does (a 30x status and Location)."""

import re
from http.server import BaseHTTPRequestHandler

import pytest

from autoscholar import http
from autoscholar.errors import ServiceError

from fakes.local_server import LocalServer

PDF = b"%PDF-1.7\n" + b"0" * 2000 + b"\n%%EOF\n"


class Redirects(LocalServer):
    """/to?LOCATION answers 302 with that Location; /paper.pdf is a PDF; every hit is kept."""

    def __init__(self):
        self.hits: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.hits.append(self.path)
                if self.path.startswith("/to?"):
                    self.send_response(302)
                    self.send_header("Location", self.path[len("/to?"):])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path == "/paper.pdf":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/pdf")
                    self.send_header("Content-Length", str(len(PDF)))
                    self.end_headers()
                    self.wfile.write(PDF)
                else:
                    self.send_error(404)

        self._listen(Handler)


@pytest.fixture
def server():
    with Redirects() as srv:
        yield srv


@pytest.mark.parametrize("target, why", [
    ("ftp://127.0.0.1/paper.pdf", "to a ftp URL, not http(s)"),
    ("http://169.254.169.254/latest/meta-data/", "to 169.254.169.254, not a public address"),
    ("http://10.0.0.7/paper.pdf", "to 10.0.0.7, not a public address"),
    ("http://[fe80::1]/paper.pdf", "to fe80::1, not a public address"),
])
def test_a_redirect_off_http_or_to_a_private_address_is_refused(server, tmp_path, target, why):
    dest = tmp_path / "paper.pdf"
    with pytest.raises(ServiceError, match=re.escape("refused a redirect " + why)) as info:
        http.download(f"{server.root}/to?{target}", dest, retries=0)
    assert not info.value.transient  # permanent: a rerun does not try it again
    assert not dest.exists() and not list(tmp_path.iterdir())
    assert server.hits == [f"/to?{target}"]  # refused before any request to the target


def test_a_redirect_to_loopback_is_refused_unless_the_request_began_there():
    # Seen from a public host, loopback is as private as 169.254.169.254.
    assert http.redirect_problem("example.org", "http://127.0.0.1:8070/api") == \
        "to 127.0.0.1, not a public address"
    assert http.redirect_problem("127.0.0.1", "http://127.0.0.1:8070/api") is None
    assert http.redirect_problem("127.0.0.1", "http://169.254.169.254/") == \
        "to 169.254.169.254, not a public address"
    assert http.redirect_problem("example.org", "http://8.8.8.8/paper.pdf") is None


def test_a_url_given_on_purpose_and_its_loopback_redirects_still_work(server, tmp_path):
    dest = http.download(f"{server.root}/to?{server.root}/to?/paper.pdf", tmp_path / "p.pdf",
                         retries=0)
    assert dest.read_bytes() == PDF
    assert server.hits == [f"/to?{server.root}/to?/paper.pdf", "/to?/paper.pdf", "/paper.pdf"]
