"""EasyPost's recorded exchanges, served by a local HTTP server so the official client runs
unchanged against `EASYPOST_API_BASE` (never the internet).

- `cassette(name)` serves a vcrpy cassette from tests/fixtures/shared/carriers/easypost, each
  interaction once, at its recorded method and path, with its recorded status and body.
- `respond(method, path, name_or_body, status)` serves one recorded API-docs response (or a
  body built from a recorded one, said where it is used) at a path of the test's choosing: the
  docs' responses were recorded in separate sessions, so their ids don't chain.
- Label files live on EasyPost's S3; the replayed bodies point at this server instead (only
  the scheme and host of those URLs are replaced), which serves a small file of the right kind
  for each (`%PDF`, `^XA…^XZ`, PNG): the recordings hold the URLs, not the files.
"""

import json
import re
import time
from pathlib import Path

import yaml
from werkzeug import Response

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "shared" / "carriers" / "easypost"
S3_HOSTS = re.compile(r"https://easypost-files\.s3[.-]us-west-2\.amazonaws\.com/")
API = "https://api.easypost.com"


def _blank_pdf() -> bytes:
    """A one-page 4x6 in PDF (a real one: the pick list's labels are merged with pypdf)."""
    import io

    from pypdf import PdfWriter

    writer, out = PdfWriter(), io.BytesIO()
    writer.add_blank_page(width=288, height=432)
    writer.write(out)
    return out.getvalue()


PDF = _blank_pdf()
ZPL = b"^XA^FO50,50^A0N,40,40^FDTEST LABEL^FS^XZ\n"
# A 1x1 white PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8ffff3f0005fe02fea7d6a4b00000000049454e44ae426082"
)


def recorded(name: str) -> dict:
    """A recorded API-docs response (easypost_examples__docs_responses_*.json)."""
    return json.loads((FIXTURES / name).read_text())


def interactions(cassette: str) -> list[dict]:
    return yaml.safe_load((FIXTURES / cassette).read_text())["interactions"]


class EasyPostReplay:
    def __init__(self, httpserver):
        self.server = httpserver
        self.files_base = httpserver.url_for("/")
        httpserver.expect_request(re.compile(r"^/files/.*")).respond_with_handler(self._file)

    @property
    def api_base(self) -> str:
        return self.server.url_for("/v2")

    def _body(self, text: str) -> str:
        return S3_HOSTS.sub(self.files_base, text)

    def _file(self, request):
        path = request.path.lower()
        if path.endswith(".pdf"):
            return Response(PDF, content_type="application/pdf")
        if path.endswith(".zpl"):
            return Response(ZPL, content_type="application/zpl")
        return Response(PNG, content_type="image/png")

    def cassette(self, name: str, *, only: slice | None = None, delay: dict[int, float] | None = None):
        """Serve the interactions of a cassette (all, or `only` a slice), each once. `delay`
        holds the answer to interaction i back by that many seconds (a time-out)."""
        items = interactions(name)
        for index, item in list(enumerate(items))[only or slice(None)]:
            request, response = item["request"], item["response"]
            path = request["uri"].removeprefix(API)
            path, _, query = path.partition("?")
            body = self._body(response["body"]["string"])
            status = response["status"]["code"]
            handler = self.server.expect_oneshot_request(path, method=request["method"])
            wait = (delay or {}).get(index)
            if wait:
                handler.respond_with_handler(_slow(body, status, wait))
            else:
                handler.respond_with_data(body, status=status, content_type="application/json")
        return items

    def respond(self, method: str, path: str, body, *, status: int = 200, times: int = 1):
        """Serve `body` (a recorded file's name, or a dict) at `path`, `times` times."""
        text = (FIXTURES / body).read_text() if isinstance(body, str) else json.dumps(body)
        text = self._body(text)
        for _ in range(times):
            self.server.expect_oneshot_request(path, method=method).respond_with_data(
                text, status=status, content_type="application/json"
            )

    def requests(self, method: str | None = None, path: str | None = None) -> list:
        """The requests the server saw (method and path filters), label files left out."""
        return [
            r
            for r, _ in self.server.log
            if not r.path.startswith("/files/")
            and (method is None or r.method == method)
            and (path is None or re.fullmatch(path, r.path))
        ]


def _slow(body: str, status: int, wait: float):
    def handler(request):
        time.sleep(wait)
        return Response(body, status=status, content_type="application/json")

    return handler
