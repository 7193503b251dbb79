"""The target systems' clients, made from the settings once and shared, every call audited.

Each client reports each API call it makes (system, operation, status, duration) to the sink the
engine installs for the action in hand (`recording`), which appends it to the audit log: the
audit shows what RecoverOps asked of AWS, Kubernetes or a CI server, not only what it decided.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx

from recoverops.remediation.model import System
from recoverops.settings import Settings

HTTP_TIMEOUT_S = 20.0


@dataclass(frozen=True, slots=True)
class Call:
    system: str
    operation: str  # "ecs.UpdateService", "PATCH /apis/apps/v1/namespaces/…", "POST /api/v4/…"
    status: int | None  # the HTTP status; None when no answer came
    duration_ms: float
    error: str = ""


CallSink = Callable[[Call], None]
_sink: ContextVar[CallSink | None] = ContextVar("recoverops_call_sink", default=None)


def _report(call: Call) -> None:
    sink = _sink.get()
    if sink is not None:
        sink(call)


@contextmanager
def recording(sink: CallSink) -> Iterator[None]:
    """Report the calls this thread makes inside the block to `sink`."""
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)


class Clients:
    """Lazily made clients of the systems the settings configure."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._aws: dict[str, Any] = {}
        self._kube: Any = None
        self._http: dict[System, httpx.Client] = {}

    def aws(self, service: str) -> Any:
        """A boto3 client for `service` (RECOVEROPS_AWS_ENDPOINT_URL, RECOVEROPS_AWS_REGION)."""
        with self._lock:
            if service not in self._aws:
                self._aws[service] = self._new_aws(service)
            return self._aws[service]

    def kubernetes(self) -> Any:
        """A `kubernetes.client.ApiClient` (RECOVEROPS_KUBECONFIG, else in-cluster config)."""
        with self._lock:
            if self._kube is None:
                self._kube = self._new_kube()
            return self._kube

    def http(self, system: System) -> httpx.Client:
        """An HTTP client for a CI server's API, with its base URL and credentials."""
        with self._lock:
            if system not in self._http:
                self._http[system] = self._new_http(system)
            return self._http[system]

    def close(self) -> None:
        with self._lock:
            for client in self._http.values():
                client.close()
            if self._kube is not None:
                self._kube.close()
            self._http.clear()
            self._kube = None

    def _new_aws(self, service: str) -> Any:
        import boto3  # imported on first use: a remediator of CI jobs never loads it
        from botocore.config import Config

        session = boto3.session.Session(region_name=self._settings.aws_region)
        client = session.client(
            service,
            endpoint_url=self._settings.aws_endpoint_url,
            config=Config(
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=10,
                read_timeout=30,
            ),
        )
        started: dict[int, float] = {}

        def before(**_event: Any) -> None:
            started[threading.get_ident()] = time.perf_counter()

        def after(http_response: Any, model: Any, **_event: Any) -> None:
            took = time.perf_counter() - started.pop(threading.get_ident(), time.perf_counter())
            status = getattr(http_response, "status_code", None)
            _report(Call("aws", f"{service}.{model.name}", status, took * 1000))

        client.meta.events.register("before-call", before)
        client.meta.events.register("after-call", after)
        return client

    def _new_kube(self) -> Any:
        from kubernetes import client, config

        if self._settings.kubeconfig is not None:
            api = config.new_client_from_config(config_file=str(self._settings.kubeconfig))
        else:
            loaded = client.Configuration()
            config.load_incluster_config(client_configuration=loaded)
            api = client.ApiClient(loaded)
        rest = api.rest_client
        request = rest.request

        def audited(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            path = httpx.URL(url).path
            began = time.perf_counter()
            try:
                response = request(method, url, *args, **kwargs)
            except Exception as error:
                took = (time.perf_counter() - began) * 1000
                status = getattr(error, "status", None)
                _report(Call("kubernetes", f"{method} {path}", status, took, type(error).__name__))
                raise
            took = (time.perf_counter() - began) * 1000
            _report(Call("kubernetes", f"{method} {path}", response.status, took))
            return response

        rest.request = audited
        return api

    def _new_http(self, system: System) -> httpx.Client:
        settings = self._settings
        headers: dict[str, str] = {"User-Agent": "recoverops-remediator"}
        auth: tuple[str, str] | None = None
        if system is System.GITHUB:
            base = settings.github_api_url
            # GitHub's own media type first; plain JSON for servers that speak only the
            # description's (Prism answers 406 to the first alone).
            headers["Accept"] = "application/vnd.github+json, application/json;q=0.9"
            headers["X-GitHub-Api-Version"] = "2022-11-28"
            if settings.github_token is not None:
                headers["Authorization"] = f"Bearer {settings.github_token.get_secret_value()}"
        elif system is System.GITLAB:
            base = f"{(settings.gitlab_url or 'https://gitlab.com').rstrip('/')}/api/v4"
            if settings.gitlab_token is not None:
                headers["PRIVATE-TOKEN"] = settings.gitlab_token.get_secret_value()
        elif system is System.JENKINS:
            if settings.jenkins_url is None:
                raise ValueError("RECOVEROPS_JENKINS_URL is not set")
            base = settings.jenkins_url
            if settings.jenkins_user and settings.jenkins_token is not None:
                auth = (settings.jenkins_user, settings.jenkins_token.get_secret_value())
        else:
            raise ValueError(f"{system} has no HTTP API client")
        began: dict[int, float] = {}

        def on_request(request: httpx.Request) -> None:
            began[id(request)] = time.perf_counter()

        def on_response(response: httpx.Response) -> None:
            request = response.request
            took = (time.perf_counter() - began.pop(id(request), time.perf_counter())) * 1000
            operation = f"{request.method} {request.url.path}"
            _report(Call(system.value, operation, response.status_code, took))

        return httpx.Client(
            base_url=base.rstrip("/") + "/",
            headers=headers,
            auth=auth,
            timeout=HTTP_TIMEOUT_S,
            event_hooks={"request": [on_request], "response": [on_response]},
        )
