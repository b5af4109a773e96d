"""A real local HTTP server that speaks the Together fine-tuning API the official `together` SDK
(3.x) calls, for offline tests of dataprep's together backend. Standard library only; binds
loopback only.

Endpoints (as the SDK 3.1.1 sends them):

    POST /v1/files                          multipart form (purpose, file_name, file_type, checksum):
                                            302 with Location (where to PUT the bytes) and
                                            X-Together-File-Id
    PUT  /upload/{file_id}                  the file's bytes (the presigned-URL step)
    POST /v1/files/{id}/preprocess          the file object (processing_status, validation_report)
    GET  /v1/files/{id}                     the file object again
    GET  /v1/fine-tunes/models/limits       model limits (?model_name=); 404 for unknown models
    POST /v1/fine-tunes/estimate-price      a price estimate
    POST /v1/fine-tunes                     create a job
    GET  /v1/fine-tunes                     list jobs ({"data": [...]})
    GET  /v1/fine-tunes/{id}                retrieve; every call advances the scenario
    GET  /v1/fine-tunes/{id}/events         events, oldest first ({"data": [...]})
    POST /v1/fine-tunes/{id}/cancel         cancel

Errors use the envelope `{"error": {"message", "type", "param", "code"}}`.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass
class Scenario:
    #: "complete" | "error" | "cancelled"
    outcome: str = "complete"
    polls_to_finish: int = 3
    #: the uploaded training file fails the service's own validation (after upload)
    invalid_file: bool = False
    invalid_message: str = "Line 3: messages must alternate between user and assistant"
    #: the first K requests whose path contains fail_path answer 500
    fail_first: int = 0
    fail_path: str = ""
    models: tuple[str, ...] = ("meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",)
    error_message: str = "Training failed: CUDA out of memory at step 3"


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _limits(name: str) -> dict[str, Any]:
    return {"model_name": name, "max_num_epochs": 20, "max_learning_rate": 1.0, "min_learning_rate": 1e-6,
            "max_num_checkpoints": 10, "max_num_evals": 10, "max_seq_length_sft": 8192, "max_seq_length_dpo": 8192,
            "min_max_seq_length": 256, "merge_output_lora": True, "default_gradient_accumulation_steps": 1,
            "supports_full_training": True, "supports_reasoning": False, "supports_tools": True,
            "supports_vision": False,
            "lora_training": {"default_rank": 8, "max_rank": 64, "max_batch_size": 32, "max_batch_size_dpo": 16,
                              "min_batch_size": 8, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]},
            "full_training": {"max_batch_size": 16, "max_batch_size_dpo": 8, "min_batch_size": 8}}


@dataclass
class _State:
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    file_bytes: dict[str, bytes] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)


class StubTogetherServer:
    """`with StubTogetherServer(Scenario(...)) as srv: Together(base_url=srv.base_url, api_key="k")`."""

    def __init__(self, scenario: Scenario | None = None, host: str = "127.0.0.1") -> None:
        if host not in LOOPBACK:
            raise ValueError("the stub server only binds loopback addresses")
        self.scenario = scenario or Scenario()
        self.state = _State()
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self.bodies: list[tuple[str, str, Any]] = []
        self.auth: list[str | None] = []
        self.failures_served = 0
        self._ids = itertools.count(1)
        self._httpd = ThreadingHTTPServer((host, 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url  # the SDK's paths carry /v1 themselves

    def start(self) -> StubTogetherServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="together-stub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> StubTogetherServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):06d}"

    def job_requests(self) -> list[dict[str, Any]]:
        return [b for m, p, b in self.bodies if m == "POST" and p.rstrip("/") == "/v1/fine-tunes"]

    def _event(self, job_id: str, type_: str, message: str, level: str = "info", **extra: Any) -> None:
        self.state.events[job_id].append({"object": "fine-tune-event", "created_at": _now(), "type": type_,
                                          "message": message, "level": level, **extra})

    def advance(self, job_id: str) -> None:
        sc = self.scenario
        job = self.state.jobs[job_id]
        if job["status"] in ("completed", "error", "cancelled"):
            return
        n = self.state.polls[job_id] = self.state.polls.get(job_id, 0) + 1
        if job["status"] == "pending":
            job["status"] = "running"
            self._event(job_id, "job_start", "Job started")
            self._event(job_id, "training_start", "Training started")
        if n >= sc.polls_to_finish:
            if sc.outcome == "complete":
                job["status"] = "completed"
                job["model_output_name"] = f"stub-user/{job['model'].split('/')[-1]}-{job.get('suffix') or 'ft'}-{job_id[-6:]}"
                job["token_count"] = 4242
                self._event(job_id, "training_complete", "Training completed")
                self._event(job_id, "job_complete", f"Job completed: {job['model_output_name']}")
            elif sc.outcome == "error":
                job["status"] = "error"
                self._event(job_id, "job_error", sc.error_message, level="error")
            else:
                job["status"] = "cancelled"
                self._event(job_id, "job_stopped", "Job was cancelled")
            job["updated_at"] = _now()
            return
        self._event(job_id, "epoch_complete", f"Epoch {n} completed", step=n * 10, total_steps=sc.polls_to_finish * 10)


def _error(message: str, type_: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _make_handler(server: StubTogetherServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args: Any) -> None:  # quiet
            return

        def _send(self, status: int, payload: Any = None, headers: dict[str, str] | None = None) -> None:
            body = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> bytes:
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def _handle(self, method: str) -> None:
            url = urlsplit(self.path)
            path = url.path
            query = parse_qs(url.query)
            raw = self._body()
            with server.lock:
                server.requests.append((method, path))
                server.auth.append(self.headers.get("Authorization"))
                sc = server.scenario
                if sc.fail_first and sc.fail_path in path and server.failures_served < sc.fail_first:
                    server.failures_served += 1
                    self._send(500, _error("internal error (stub)", "server_error"), {"retry-after-ms": "1"})
                    return
                if method == "PUT" and path.startswith("/upload/"):
                    server.state.file_bytes[path.rsplit("/", 1)[-1]] = raw
                    self._send(200, {})
                    return
                if not path.startswith("/v1/"):
                    self._send(404, _error(f"no route {path}", "not_found"))
                    return
                if self.headers.get("Authorization") != "Bearer tg-test-not-real":
                    self._send(401, _error("Invalid API key provided", "invalid_request_error", "invalid_api_key"))
                    return
                parsed: Any = None
                ctype = self.headers.get("Content-Type", "")
                if raw and ctype.startswith("application/json"):
                    parsed = json.loads(raw)
                elif raw and ctype.startswith("multipart/form-data"):
                    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
                    parsed = {part.get_param("name", header="content-disposition"): part.get_content()
                              for part in msg.iter_parts()}
                server.bodies.append((method, path, parsed))
                self._route(method, path.rstrip("/"), query, parsed)

        def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> None:
            st = server.state
            sc = server.scenario
            parts = path.split("/")[1:]  # ["v1", ...]
            if method == "POST" and path == "/v1/files":
                fid = server.new_id("file")
                st.files[fid] = {"id": fid, "object": "file", "bytes": 0, "created_at": 1700000000,
                                 "filename": (body or {}).get("file_name"), "FileType": (body or {}).get("file_type"),
                                 "purpose": (body or {}).get("purpose"), "processing_status": "PENDING"}
                self._send(302, None, {"Location": f"{server.root_url}/upload/{fid}", "X-Together-File-Id": fid})
                return
            if method == "POST" and len(parts) == 4 and parts[1] == "files" and parts[3] == "preprocess":
                f = st.files.get(parts[2])
                if f is None:
                    self._send(404, _error(f"file {parts[2]} not found", "not_found"))
                    return
                f["bytes"] = len(st.file_bytes.get(parts[2], b""))
                bad = sc.invalid_file and f["filename"] and "val" not in f["filename"]
                f["processing_status"] = "INVALID_FORMAT" if bad else "COMPLETED"
                f["validation_report"] = ({"valid": False, "error": sc.invalid_message, "error_type": "INVALID_FORMAT"}
                                          if bad else {"valid": True, "dataset_format": "conversation"})
                self._send(200, f)
                return
            if method == "GET" and len(parts) == 3 and parts[1] == "files":
                f = st.files.get(parts[2])
                if f is None:
                    self._send(404, _error(f"file {parts[2]} not found", "not_found"))
                    return
                self._send(200, f)
                return
            if method == "GET" and path == "/v1/fine-tunes/models/limits":
                name = (query.get("model_name") or [""])[0]
                if name not in sc.models:
                    self._send(404, _error(f"Model {name} is not available for fine-tuning", "invalid_request_error",
                                           "model_not_available", "model"))
                    return
                self._send(200, _limits(name))
                return
            if method == "POST" and path == "/v1/fine-tunes/estimate-price":
                self._send(200, {"estimation_available": True, "allowed_to_proceed": True,
                                 "estimated_total_price": 1.23, "estimated_train_token_count": 1000,
                                 "estimated_eval_token_count": 0, "user_limit": 100.0})
                return
            if method == "POST" and path == "/v1/fine-tunes":
                body = body or {}
                for key in ("training_file", "validation_file"):
                    fid = body.get(key)
                    if fid and fid not in st.files:
                        self._send(400, _error(f"{key} {fid} not found", "invalid_request_error", None, key))
                        return
                jid = server.new_id("ft")
                job = {"id": jid, "object": "finetune", "status": "pending", "user_id": "stub-user",
                       "model": body.get("model"), "training_file": body.get("training_file"),
                       "validation_file": body.get("validation_file") or "", "n_epochs": body.get("n_epochs"),
                       "suffix": body.get("suffix"), "created_at": _now(), "updated_at": _now()}
                st.jobs[jid] = job
                st.events[jid] = []
                server._event(jid, "job_pending", f"Fine-tune request created: {jid}")
                self._send(200, job)
                return
            if method == "GET" and path == "/v1/fine-tunes":
                self._send(200, {"data": list(st.jobs.values())})
                return
            if len(parts) >= 3 and parts[1] == "fine-tunes":
                job = st.jobs.get(parts[2])
                if job is None:
                    self._send(404, _error(f"fine-tune job {parts[2]} not found", "invalid_request_error",
                                           "not_found"))
                    return
                if method == "GET" and len(parts) == 3:
                    server.advance(job["id"])
                    self._send(200, job)
                    return
                if method == "GET" and parts[3:] == ["events"]:
                    self._send(200, {"data": st.events[job["id"]]})
                    return
                if method == "POST" and parts[3:] == ["cancel"]:
                    if job["status"] in ("completed", "error", "cancelled"):
                        self._send(400, _error(f"job {job['id']} has already ended ({job['status']})",
                                               "invalid_request_error"))
                        return
                    job["status"] = "cancelled"
                    server._event(job["id"], "job_stopped", "Job was cancelled by the user")
                    self._send(200, job)
                    return
            self._send(404, _error(f"no route {method} {path}", "not_found"))

        def do_GET(self) -> None:  # noqa: N802
            self._handle("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._handle("POST")

        def do_PUT(self) -> None:  # noqa: N802
            self._handle("PUT")

    return Handler
