"""A real local HTTP server that implements the OpenAI fine-tuning endpoints the official SDK calls,
for offline tests of dataprep's openai backend. Standard library only; binds loopback only.

Endpoints (paths also accepted with an `/openai` prefix, as the Azure client sends them):

    POST /v1/files                                  multipart upload (purpose, file)
    GET  /v1/files/{id}                             file object (status uploaded -> processed | error)
    POST /v1/fine_tuning/jobs                       create a job
    GET  /v1/fine_tuning/jobs                       list jobs (limit, after; has_more)
    GET  /v1/fine_tuning/jobs/{id}                  retrieve; every call advances the scenario
    POST /v1/fine_tuning/jobs/{id}/cancel           cancel
    GET  /v1/fine_tuning/jobs/{id}/events           events, newest first (limit, after; has_more)
    GET  /v1/fine_tuning/jobs/{id}/checkpoints      checkpoints, newest first

Errors use the documented envelope `{"error": {"message", "type", "param", "code"}}`.

Scenarios (`Scenario`): a job that succeeds after N retrievals with events and checkpoints, fails
with an error, fails on a validation file the service rejects (optionally the file itself reports
status "error"), is cancelled from elsewhere, and the first K requests answering 500 (with a
`retry-after-ms` header so the SDK's retries are fast).
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass
class Scenario:
    #: "succeed" | "fail" | "validation_error" | "cancelled"
    outcome: str = "succeed"
    #: job retrievals before the job reaches its final status
    polls_to_finish: int = 3
    #: metric events and one checkpoint added per retrieval while running
    steps_per_poll: int = 2
    #: the first K requests (whose path contains `fail_path`) answer 500
    fail_first: int = 0
    fail_path: str = ""
    #: validation file uploads report status "error" with status_details
    validation_file_status_error: bool = False
    error_code: str = "invalid_validation_file"
    error_param: str | None = "validation_file"
    error_message: str = ("The job failed due to an invalid validation file. Example 3, message 2: "
                          "'weight' is only allowed on assistant messages.")
    fail_code: str = "training_error"
    fail_message: str = "The job failed due to an internal training error. Please retry."
    require_auth: bool = True


@dataclass
class _State:
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    file_bytes: dict[str, bytes] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    job_order: list[str] = field(default_factory=list)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    checkpoints: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)
    steps: dict[str, int] = field(default_factory=dict)


class StubOpenAIServer:
    """`with StubOpenAIServer(Scenario(...)) as srv: OpenAI(base_url=srv.base_url, api_key="k")`."""

    def __init__(self, scenario: Scenario | None = None, host: str = "127.0.0.1") -> None:
        if host not in LOOPBACK:
            raise ValueError("the stub server only binds loopback addresses")
        self.scenario = scenario or Scenario()
        self.state = _State()
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, in order
        self.bodies: list[tuple[str, str, Any]] = []  # (method, path, parsed JSON body)
        self.failures_served = 0
        self._ids = itertools.count(1)
        self._httpd = ThreadingHTTPServer((host, 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def start(self) -> StubOpenAIServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="openai-stub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> StubOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ helpers
    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):06d}"

    def job_requests(self) -> list[dict[str, Any]]:
        return [b for m, p, b in self.bodies if m == "POST" and p.rstrip("/") == "/fine_tuning/jobs"]

    def _event(self, job_id: str, message: str, *, level: str = "info", type_: str = "message",
               data: dict[str, Any] | None = None) -> None:
        self.state.events[job_id].append({
            "object": "fine_tuning.job.event", "id": self.new_id("ftevent"), "created_at": int(time.time()),
            "level": level, "message": message, "data": data or {}, "type": type_,
        })

    # ------------------------------------------------------------------ job lifecycle
    def advance(self, job_id: str) -> None:
        sc = self.scenario
        job = self.state.jobs[job_id]
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return
        n = self.state.polls[job_id] = self.state.polls.get(job_id, 0) + 1
        if sc.outcome == "validation_error":
            job["status"] = "failed"
            job["finished_at"] = int(time.time())
            job["error"] = {"code": sc.error_code, "message": sc.error_message, "param": sc.error_param}
            self._event(job_id, sc.error_message, level="error")
            return
        if job["status"] in ("validating_files", "queued"):
            job["status"] = "running"
            self._event(job_id, "Fine-tuning job started")
        if n >= sc.polls_to_finish:
            self._finish(job_id)
            return
        for _ in range(sc.steps_per_poll):
            step = self.state.steps[job_id] = self.state.steps.get(job_id, 0) + 1
            loss = round(2.0 / step, 4)
            self._event(job_id, f"Step {step}/{sc.steps_per_poll * sc.polls_to_finish}: training loss={loss}",
                        type_="metrics", data={"step": step, "train_loss": loss, "train_mean_token_accuracy": 0.5})
        step = self.state.steps[job_id]
        self.state.checkpoints[job_id].append({
            "object": "fine_tuning.job.checkpoint", "id": self.new_id("ftckpt"), "created_at": int(time.time()),
            "fine_tuned_model_checkpoint": f"ft:{job['model']}:stub::{job_id}:ckpt-step-{step}",
            "fine_tuning_job_id": job_id, "step_number": step,
            "metrics": {"step": float(step), "train_loss": round(2.0 / step, 4), "valid_loss": round(2.2 / step, 4),
                        "train_mean_token_accuracy": 0.5, "valid_mean_token_accuracy": 0.45},
        })

    def _finish(self, job_id: str) -> None:
        sc = self.scenario
        job = self.state.jobs[job_id]
        job["finished_at"] = int(time.time())
        if sc.outcome == "succeed":
            suffix = job.get("user_provided_suffix") or ""
            job["status"] = "succeeded"
            job["fine_tuned_model"] = f"ft:{job['model']}:stub:{suffix}:{job_id[-6:]}"
            job["trained_tokens"] = 12345
            job["result_files"] = [self.new_id("file")]
            self._event(job_id, f"New fine-tuned model created: {job['fine_tuned_model']}")
            self._event(job_id, "The job has successfully completed")
        elif sc.outcome == "fail":
            job["status"] = "failed"
            job["error"] = {"code": sc.fail_code, "message": sc.fail_message, "param": None}
            self._event(job_id, sc.fail_message, level="error")
        elif sc.outcome == "cancelled":
            job["status"] = "cancelled"
            self._event(job_id, "The job has been cancelled")
        else:  # pragma: no cover - unknown scenario
            raise ValueError(sc.outcome)


def _error(message: str, type_: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _page(items: list[dict[str, Any]], query: dict[str, list[str]], *, default_limit: int = 20) -> dict[str, Any]:
    """Cursor pagination over items already ordered newest first: `after` = id of the last item seen."""
    limit = int(query.get("limit", [default_limit])[0])
    after = query.get("after", [None])[0]
    start = 0
    if after is not None:
        ids = [it["id"] for it in items]
        start = ids.index(after) + 1 if after in ids else len(items)
    chunk = items[start:start + limit]
    out: dict[str, Any] = {"object": "list", "data": chunk, "has_more": start + limit < len(items)}
    if chunk:
        out["first_id"] = chunk[0]["id"]
        out["last_id"] = chunk[-1]["id"]
    return out


def _make_handler(server: StubOpenAIServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes
        server_version = "openai-stub/1"

        def log_message(self, fmt: str, *args: Any) -> None:  # keep test output clean
            pass

        # -------------------------------------------------------------- plumbing
        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().strip().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-request-id", f"req_{next(server._ids)}")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _route(self, method: str) -> None:
            url = urlsplit(self.path)
            path = url.path
            for prefix in ("/openai", "/v1"):
                if path.startswith(prefix + "/"):
                    path = path[len(prefix):]
            query = parse_qs(url.query)
            body = self._body()
            sc = server.scenario
            with server.lock:
                server.requests.append((method, path))
                if sc.fail_first and server.failures_served < sc.fail_first and sc.fail_path in path:
                    server.failures_served += 1
                    return self._send(500, _error("The server had an error while processing your request. "
                                                  "Sorry about that!", "server_error"),
                                      {"retry-after-ms": "5"})
                if sc.require_auth and not (self.headers.get("Authorization", "").startswith("Bearer ")
                                            or self.headers.get("api-key")):
                    return self._send(401, _error("You didn't provide an API key.", "invalid_request_error",
                                                  code="missing_api_key"))
                try:
                    status, payload = self._dispatch(method, path, query, body)
                except _HTTPError as exc:
                    status, payload = exc.status, exc.payload
                self._send(status, payload)

        def do_GET(self) -> None:  # noqa: N802
            self._route("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._route("POST")

        def do_DELETE(self) -> None:  # noqa: N802
            self._route("DELETE")

        # -------------------------------------------------------------- endpoints
        def _dispatch(self, method: str, path: str, query: dict[str, list[str]], body: bytes):
            st = server.state
            parts = [p for p in path.split("/") if p]
            if parts == ["files"] and method == "POST":
                return self._upload(body)
            if len(parts) == 2 and parts[0] == "files" and method == "GET":
                f = st.files.get(parts[1])
                if f is None:
                    raise _HTTPError(404, _error(f"No such File object: {parts[1]}", "invalid_request_error",
                                                 "id"))
                if f["status"] == "uploaded":
                    if f.pop("_will_error", False):
                        f["status"] = "error"
                        f["status_details"] = server.scenario.error_message
                    else:
                        f["status"] = "processed"
                return 200, f
            if parts[:2] == ["fine_tuning", "jobs"]:
                if len(parts) == 2:
                    if method == "POST":
                        return self._create_job(body)
                    if method == "GET":
                        items = [st.jobs[j] for j in reversed(st.job_order)]
                        return 200, _page(items, query)
                job_id = parts[2]
                job = st.jobs.get(job_id)
                if job is None:
                    raise _HTTPError(404, _error(f"Could not find fine-tune: {job_id}", "invalid_request_error",
                                                 "fine_tune_id", "fine_tune_not_found"))
                if len(parts) == 3 and method == "GET":
                    server.advance(job_id)
                    return 200, job
                if len(parts) == 4 and parts[3] == "cancel" and method == "POST":
                    if job["status"] in ("succeeded", "failed", "cancelled"):
                        raise _HTTPError(400, _error(f"Job {job_id} has already {job['status']}; it cannot be "
                                                     "cancelled.", "invalid_request_error", None,
                                                     "invalid_cancel"))
                    job["status"] = "cancelled"
                    job["finished_at"] = int(time.time())
                    server._event(job_id, "The job has been cancelled")
                    return 200, job
                if len(parts) == 4 and parts[3] == "events" and method == "GET":
                    return 200, _page(list(reversed(st.events[job_id])), query)
                if len(parts) == 4 and parts[3] == "checkpoints" and method == "GET":
                    return 200, _page(list(reversed(st.checkpoints[job_id])), query, default_limit=10)
            raise _HTTPError(404, _error(f"Invalid URL ({method} {path})", "invalid_request_error"))

        def _upload(self, body: bytes):
            ctype = self.headers.get("Content-Type", "")
            if not ctype.startswith("multipart/form-data"):
                raise _HTTPError(400, _error("Expected multipart/form-data", "invalid_request_error"))
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
            fields: dict[str, Any] = {}
            filename = None
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if part.get_filename():
                    filename = part.get_filename()
                    fields[name] = part.get_payload(decode=True)
                else:
                    fields[name] = part.get_payload(decode=True).decode()
            if fields.get("purpose") != "fine-tune" or "file" not in fields:
                raise _HTTPError(400, _error("'purpose' must be 'fine-tune' and 'file' is required",
                                             "invalid_request_error", "purpose"))
            if not (filename or "").endswith(".jsonl"):
                raise _HTTPError(400, _error(f"Invalid file format for Fine-Tuning API. Must be .jsonl; got "
                                             f"{filename!r}", "invalid_request_error", "file"))
            fid = server.new_id("file")
            obj = {"object": "file", "id": fid, "bytes": len(fields["file"]), "created_at": int(time.time()),
                   "filename": filename, "purpose": "fine-tune", "status": "uploaded", "status_details": None,
                   "expires_at": None}
            server.state.files[fid] = obj
            server.state.file_bytes[fid] = fields["file"]
            if server.scenario.validation_file_status_error and "val" in (filename or ""):
                obj["_will_error"] = True
            server.bodies.append(("POST", "/files", {"purpose": fields["purpose"], "filename": filename}))
            return 200, {k: v for k, v in obj.items() if not k.startswith("_")}

        def _create_job(self, body: bytes):
            try:
                req = json.loads(body or b"{}")
            except json.JSONDecodeError:
                raise _HTTPError(400, _error("We could not parse the JSON body of your request.",
                                             "invalid_request_error")) from None
            server.bodies.append(("POST", "/fine_tuning/jobs", req))
            st = server.state
            if not req.get("model"):
                raise _HTTPError(400, _error("Missing required parameter: 'model'.", "invalid_request_error",
                                             "model", "missing_required_parameter"))
            for param in ("training_file", "validation_file"):
                fid = req.get(param)
                if param == "training_file" and not fid:
                    raise _HTTPError(400, _error("Missing required parameter: 'training_file'.",
                                                 "invalid_request_error", param, "missing_required_parameter"))
                if fid and fid not in st.files:
                    raise _HTTPError(400, _error(f"invalid {param}: {fid}", "invalid_request_error", param,
                                                 "invalid_file"))
            method = req.get("method") or {"type": "supervised"}
            if method.get("type") not in ("supervised", "dpo", "reinforcement"):
                raise _HTTPError(400, _error(f"Invalid method type {method.get('type')!r}",
                                             "invalid_request_error", "method.type"))
            hp = (method.get(method["type"]) or {}).get("hyperparameters") or req.get("hyperparameters") or {}
            job_id = server.new_id("ftjob")
            job = {
                "object": "fine_tuning.job", "id": job_id, "model": req["model"], "created_at": int(time.time()),
                "finished_at": None, "fine_tuned_model": None, "organization_id": "org-stub",
                "result_files": [], "status": "validating_files", "validation_file": req.get("validation_file"),
                "training_file": req["training_file"],
                "hyperparameters": {k: hp.get(k, "auto") for k in ("n_epochs", "batch_size",
                                                                    "learning_rate_multiplier")},
                "trained_tokens": None, "error": None, "user_provided_suffix": req.get("suffix"),
                "seed": req.get("seed") if req.get("seed") is not None else 1234, "estimated_finish": None,
                "integrations": [], "metadata": req.get("metadata"), "method": method,
            }
            st.jobs[job_id] = job
            st.job_order.append(job_id)
            st.events[job_id] = []
            st.checkpoints[job_id] = []
            server._event(job_id, f"Created fine-tuning job: {job_id}")
            server._event(job_id, "Validating training file")
            return 200, job

    return Handler


class _HTTPError(Exception):
    def __init__(self, status: int, payload: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.payload = payload
