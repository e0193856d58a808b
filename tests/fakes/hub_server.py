"""A fake Hugging Face Hub on 127.0.0.1 speaking the endpoints huggingface_hub uses to create a
dataset repo and commit a folder to it:

  POST /api/repos/create                               {name, organization, type, visibility}
  POST /api/validate-yaml                              {content, repoType}: the card's metadata
  GET  /api/datasets/{repo}/revision/{rev}             repo info (sha, siblings)
  GET  /api/datasets/{repo}/tree/{rev}?recursive=True  file listing (for delete_patterns)
  POST /api/datasets/{repo}/preupload/{rev}            upload mode per file: "regular" or "lfs"
  POST /api/datasets/{repo}/commit/{rev}               NDJSON: header, file (base64), lfsFile,
                                                       deletedFile / deletedFolder lines
  POST /datasets/{repo}.git/info/lfs/objects/batch     git-lfs batch API (basic transfer)
  PUT  /lfs-upload/{oid}?sig=...                       the "presigned" upload the batch hands out
  POST /datasets/{repo}.git/info/lfs/objects/verify

Every request is recorded (method, path, headers, body). Calls other than the presigned upload
must carry `authorization: Bearer <token>`, else 401 as the Hub answers an invalid token. Files
live in memory, per repo, so a test can compare them byte for byte with the local folder.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from local_server import LocalServer

# What the Hub puts in a new repo (abridged): parquet is among the LFS-tracked types.
GITATTRIBUTES = b"""*.arrow filter=lfs diff=lfs merge=lfs -text
*.parquet filter=lfs diff=lfs merge=lfs -text
*.zip filter=lfs diff=lfs merge=lfs -text
"""

REPO_ROUTE = re.compile(r"^/api/datasets/([^/]+/[^/]+)/(revision|tree|preupload|commit)/([^/]+)$")
LFS_ROUTE = re.compile(r"^/datasets/([^/]+/[^/]+)\.git/info/lfs/objects/(batch|verify)$")


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Repo:
    repo_id: str
    private: bool
    files: dict[str, bytes] = field(default_factory=dict)
    lfs: set[str] = field(default_factory=set)  # paths committed as lfsFile
    commits: list[dict] = field(default_factory=list)  # {"oid", "summary", "lines"}

    @property
    def sha(self) -> str:
        return self.commits[-1]["oid"]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class FakeHub(LocalServer):
    def __init__(self, token: str, namespaces: tuple[str, ...] = ("alice",),
                 lfs_suffixes: tuple[str, ...] = (), echo_credentials: bool = False):
        """`token` may write to repos under `namespaces`; files ending in `lfs_suffixes` get
        uploadMode "lfs" at preupload (the real Hub says so for parquet; huggingface_hub then
        uses Xet when hf_xet is installed, else this git-lfs API). `echo_credentials` makes the
        401 answer quote the credentials it got, as a careless server might."""
        self.token = token
        self.namespaces = set(namespaces)
        self.lfs_suffixes = lfs_suffixes
        self.echo_credentials = echo_credentials
        self.user = namespaces[0]  # whoami's name; the other namespaces are its orgs
        self.role = "write"  # the token's role whoami reports: "read", "write", "fineGrained"
        self.repos: dict[str, Repo] = {}
        self.lfs_objects: dict[str, bytes] = {}  # sha256 -> bytes
        self.requests: list[Request] = []
        self.unknown: list[str] = []  # routes we do not speak: a test asserts there are none
        self.lock = threading.Lock()
        self._upload_sigs: dict[str, str] = {}  # oid -> signature of its presigned URL
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                outer._handle(self, "GET")

            def do_POST(self):
                outer._handle(self, "POST")

            def do_PUT(self):
                outer._handle(self, "PUT")

        self._listen(Handler)

    @property
    def url(self) -> str:
        return self.root

    # -- plumbing --------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        body = _read_body(h)
        split = urlsplit(h.path)
        path, query = unquote(split.path), parse_qs(split.query)
        headers = {k.lower(): v for k, v in h.headers.items()}
        with self.lock:
            self.requests.append(Request(method, h.path, headers, body))
            status, payload, extra = self._route(method, path, query, headers, body)
        data = json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("content-type", "application/json")
        h.send_header("content-length", str(len(data)))
        for key, value in extra.items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(data)

    def _route(self, method, path, query, headers, body) -> tuple[int, dict, dict]:
        if method == "PUT" and path.startswith("/lfs-upload/"):
            return self._lfs_put(path.rsplit("/", 1)[1], query, body)
        if headers.get("authorization") != f"Bearer {self.token}":
            got = f": {headers.get('authorization')}" if self.echo_credentials else ""
            return 401, {"error": f"Invalid username or password{got}."}, {
                "x-error-message": "Invalid credentials in Authorization header"}
        if method == "GET" and path == "/api/whoami-v2":  # the Hub's answer, trimmed
            return 200, {"type": "user", "id": "6123456789abcdef01234567",
                         "name": self.user, "fullname": self.user.title(),
                         "orgs": [{"type": "org", "name": n}
                                  for n in sorted(self.namespaces - {self.user})],
                         "auth": {"type": "access_token", "accessToken": {
                             "displayName": "autoscholar", "role": self.role,
                             "createdAt": "2026-01-02T03:04:05.000Z"}}}, {}
        if method == "POST" and path == "/api/repos/create":
            return self._create(json.loads(body))
        if method == "POST" and path == "/api/validate-yaml":
            return self._validate_yaml(json.loads(body))
        if m := REPO_ROUTE.match(path):
            repo_id, action, rev = m.groups()
            repo = self.repos.get(repo_id)
            if repo is None:
                return 404, {"error": "Repository not found"}, {"x-error-code": "RepoNotFound"}
            if rev != "main":
                return 404, {"error": f"Invalid rev id: {rev}"}, {"x-error-code": "RevisionNotFound"}
            if method == "GET" and action == "revision":
                return 200, {"id": repo_id, "sha": repo.sha, "private": repo.private,
                             "siblings": [{"rfilename": p} for p in sorted(repo.files)]}, {}
            if method == "GET" and action == "tree":
                return 200, [self._tree_entry(repo, p) for p in sorted(repo.files)], {}
            if not self._may_write(repo_id):
                return 403, {"error": "You don't have the rights to write to this repo"}, {}
            if method == "POST" and action == "preupload":
                return self._preupload(repo, json.loads(body))
            if method == "POST" and action == "commit":
                if headers.get("content-type") != "application/x-ndjson":
                    return 400, {"error": "commit body must be application/x-ndjson"}, {}
                return self._commit(repo, body)
        if (m := LFS_ROUTE.match(path)) and method == "POST":
            repo_id, action = m.groups()
            if repo_id not in self.repos:
                return 404, {"message": "Repository not found"}, {"x-error-code": "RepoNotFound"}
            if not self._may_write(repo_id):
                return 403, {"message": "You don't have the rights to write to this repo"}, {}
            if action == "batch":
                return self._lfs_batch(repo_id, json.loads(body))
            return self._lfs_verify(json.loads(body))
        self.unknown.append(f"{method} {path}")
        return 404, {"error": f"fake hub does not speak {method} {path}"}, {}

    def _may_write(self, repo_id: str) -> bool:
        return repo_id.split("/")[0] in self.namespaces

    # -- repos -----------------------------------------------------------------------------

    def _create(self, payload: dict) -> tuple[int, dict, dict]:
        if payload.get("type") != "dataset":
            return 400, {"error": f"fake hub only hosts datasets, not {payload.get('type')}"}, {}
        owner, name = payload.get("organization"), payload["name"]
        repo_id = f"{owner}/{name}"
        url = f"{self.url}/datasets/{repo_id}"
        if owner not in self.namespaces:
            return 403, {"error": f"You don't have the rights to create a dataset under the "
                                  f"namespace \"{owner}\""}, {}
        if repo_id in self.repos:
            return 409, {"error": "You already created this dataset repo", "url": url}, {}
        repo = Repo(repo_id, private=payload.get("visibility") == "private")
        repo.files[".gitattributes"] = GITATTRIBUTES
        repo.commits.append({"oid": _commit_oid(repo_id, 0), "summary": "initial commit",
                             "lines": []})
        self.repos[repo_id] = repo
        return 200, {"url": url, "name": repo_id, "id": secrets.token_hex(12)}, {}

    def _validate_yaml(self, payload: dict) -> tuple[int, dict, dict]:
        content = payload["content"]
        if not content.startswith("---\n"):
            return 200, {"errors": [], "warnings": [{"message": "empty or missing yaml metadata"}]}, {}
        try:
            meta = yaml.safe_load(content[4:content.index("\n---", 3)])
        except (ValueError, yaml.YAMLError) as exc:
            return 400, {"errors": [{"message": f"Invalid YAML: {exc}"}]}, {}
        for config in (meta or {}).get("configs", []):
            if not isinstance(config, dict) or "config_name" not in config:
                return 400, {"errors": [{"message": '"configs" items need a config_name'}]}, {}
        return 200, {"errors": [], "warnings": []}, {}

    def _tree_entry(self, repo: Repo, path: str) -> dict:
        data = repo.files[path]
        entry = {"type": "file", "path": path, "size": len(data), "oid": git_blob_oid(data)}
        if path in repo.lfs:
            entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data),
                            "pointerSize": 130}
        return entry

    def _preupload(self, repo: Repo, payload: dict) -> tuple[int, dict, dict]:
        files = []
        for f in payload["files"]:
            path = f["path"]
            mode = "lfs" if path.endswith(self.lfs_suffixes) and self.lfs_suffixes else "regular"
            info = {"path": path, "uploadMode": mode, "shouldIgnore": False}
            if path in repo.files:  # lets the client skip unchanged files
                data = repo.files[path]
                info["oid"] = (hashlib.sha256(data).hexdigest() if path in repo.lfs
                               else git_blob_oid(data))
            files.append(info)
        return 200, {"files": files, "commitOid": repo.sha}, {}

    def _commit(self, repo: Repo, body: bytes) -> tuple[int, dict, dict]:
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header" or "summary" not in lines[0]["value"]:
            return 400, {"error": "first NDJSON line must be the commit header"}, {}
        parent = lines[0]["value"].get("parentCommit")
        if parent is not None and parent != repo.sha:
            return 412, {"error": "A commit has happened since. Please refresh and try again."}, {}
        files, lfs = dict(repo.files), set(repo.lfs)
        for line in lines[1:]:
            key, value = line["key"], line["value"]
            path = value["path"]
            if key == "file":
                if value.get("encoding") != "base64":
                    return 400, {"error": f"unsupported encoding for {path}"}, {}
                files[path] = base64.b64decode(value["content"], validate=True)
                lfs.discard(path)
            elif key == "lfsFile":
                data = self.lfs_objects.get(value["oid"])
                if data is None or value.get("algo") != "sha256":
                    return 422, {"error": f"LFS object {value['oid']} for {path} was not uploaded"}, {}
                files[path] = data
                lfs.add(path)
            elif key == "deletedFile":
                if files.pop(path, None) is None:
                    return 404, {"error": "A file with this name doesn't exist"}, {
                        "x-error-code": "EntryNotFound"}
                lfs.discard(path)
            elif key == "deletedFolder":
                for p in [p for p in files if p.startswith(path.rstrip("/") + "/")]:
                    del files[p]
                    lfs.discard(p)
            else:
                return 400, {"error": f"unknown commit operation {key}"}, {}
        repo.files, repo.lfs = files, lfs
        oid = _commit_oid(repo.repo_id, len(repo.commits))
        repo.commits.append({"oid": oid, "summary": lines[0]["value"]["summary"], "lines": lines})
        return 200, {"success": True, "commitOid": oid, "hookOutput": "",
                     "commitUrl": f"{self.url}/datasets/{repo.repo_id}/commit/{oid}"}, {}

    # -- git-lfs ---------------------------------------------------------------------------

    def _lfs_batch(self, repo_id: str, payload: dict) -> tuple[int, dict, dict]:
        if payload.get("operation") != "upload" or "basic" not in payload.get("transfers", []):
            return 422, {"message": "fake hub only accepts basic uploads"}, {}
        objects = []
        for obj in payload["objects"]:
            oid, size = obj["oid"], obj["size"]
            entry = {"oid": oid, "size": size, "authenticated": True}
            if oid not in self.lfs_objects:
                sig = self._upload_sigs.setdefault(oid, secrets.token_hex(8))
                entry["actions"] = {
                    "upload": {"href": f"{self.url}/lfs-upload/{oid}?sig={sig}"},
                    "verify": {"href": f"{self.url}/datasets/{repo_id}.git/info/lfs/objects/verify"},
                }
            objects.append(entry)
        return 200, {"transfer": "basic", "objects": objects}, {}

    def _lfs_put(self, oid: str, query: dict, body: bytes) -> tuple[int, dict, dict]:
        if query.get("sig", [""])[0] != self._upload_sigs.get(oid):
            return 403, {"message": "bad signature"}, {}
        if hashlib.sha256(body).hexdigest() != oid:
            return 400, {"message": "content does not match its sha256"}, {}
        self.lfs_objects[oid] = body
        return 200, {}, {}

    def _lfs_verify(self, payload: dict) -> tuple[int, dict, dict]:
        data = self.lfs_objects.get(payload["oid"])
        if data is None or len(data) != payload["size"]:
            return 404, {"message": "object not found"}, {}
        return 200, {}, {}


def _commit_oid(repo_id: str, n: int) -> str:
    return hashlib.sha1(f"{repo_id}:{n}".encode()).hexdigest()


def _read_body(h: BaseHTTPRequestHandler) -> bytes:
    if h.headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(h.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while h.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                return b"".join(chunks)
            chunks.append(h.rfile.read(size))
            h.rfile.readline()  # CRLF after each chunk
    return h.rfile.read(int(h.headers.get("content-length") or 0))
