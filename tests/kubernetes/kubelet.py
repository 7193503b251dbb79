"""A test-side kubelet: it watches the pods of some namespaces and writes each pod's status from
its spec by the rules a test gives, as a node would report it:

- an image whose tag is outside the allowed tags of its repository → ImagePullBackOff;
- a memory limit under what the workload needs → OOMKilled (CrashLoopBackOff, last state
  OOMKilled, restarts);
- otherwise Running and Ready.

So a rollback to a good image, or a higher memory limit, really changes what the cluster
reports, and the ReplicaSet and Deployment controllers act on it as they would on a real node.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger("tests.kubelet")

_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
_QUANTITY = re.compile(r"^([0-9]+)(k|M|G|Ki|Mi|Gi)?$")


def memory_bytes(quantity: str) -> int:
    match = _QUANTITY.match(quantity)
    if match is None:
        raise ValueError(f"unsupported memory quantity {quantity!r}")
    return int(match.group(1)) * _UNITS[match.group(2) or ""]


@dataclass
class Rules:
    # repository → tags that pull; a repository not named here pulls any tag
    allowed_tags: dict[str, set[str]] = field(default_factory=dict)
    # container name → bytes of memory it needs; a lower limit is OOMKilled
    memory_need: dict[str, int] = field(default_factory=dict)

    def container_state(self, container: Any) -> tuple[str, str | None]:
        """("running", None) or ("waiting", reason) for one container of a pod spec."""
        repository, _, tag = container.image.rpartition(":")
        if not repository:
            repository, tag = container.image, "latest"
        allowed = self.allowed_tags.get(repository)
        if allowed is not None and tag not in allowed:
            return "waiting", "ImagePullBackOff"
        need = self.memory_need.get(container.name)
        limits = (container.resources and container.resources.limits) or {}
        if need is not None and "memory" in limits and memory_bytes(limits["memory"]) < need:
            return "waiting", "OOMKilled"
        return "running", None


class Kubelet:
    """Sets pod statuses in `namespaces` until stopped; `rules` may change while it runs."""

    def __init__(self, api_client: Any, *, namespaces: Iterable[str], rules: Rules) -> None:
        from kubernetes import client

        self.rules = rules
        self._core = client.CoreV1Api(api_client)
        self._namespaces = tuple(namespaces)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(ns,), name=f"kubelet-{ns}", daemon=True)
            for ns in self._namespaces
        ]
        self.updates = 0

    def start(self) -> Kubelet:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)

    def resync(self) -> None:
        """Apply the (changed) rules to every pod now."""
        for namespace in self._namespaces:
            for pod in self._core.list_namespaced_pod(namespace).items:
                self._reconcile(pod)

    def _run(self, namespace: str) -> None:
        from kubernetes import watch
        from kubernetes.client.exceptions import ApiException

        while not self._stop.is_set():
            try:
                listed = self._core.list_namespaced_pod(namespace)
                for pod in listed.items:
                    self._reconcile(pod)
                version = listed.metadata.resource_version
                stream = watch.Watch()
                for event in stream.stream(
                    self._core.list_namespaced_pod,
                    namespace,
                    resource_version=version,
                    timeout_seconds=1,
                ):
                    if self._stop.is_set():
                        stream.stop()
                        break
                    if event["type"] in ("ADDED", "MODIFIED"):
                        self._reconcile(event["object"])
            except ApiException as error:
                if error.status != 410:
                    logger.warning("kubelet %s: %s", namespace, error.reason)
                self._stop.wait(0.1)
            except Exception:  # the server restarting, a dropped connection: list again
                logger.exception("kubelet %s", namespace)
                self._stop.wait(0.2)

    def _reconcile(self, pod: Any) -> None:
        from kubernetes.client.exceptions import ApiException

        if pod.metadata.deletion_timestamp is not None:
            return
        wanted = self._status(pod)
        if _signature(pod.status) == _signature_of_body(wanted):
            return
        try:
            self._core.patch_namespaced_pod_status(
                pod.metadata.name, pod.metadata.namespace, {"status": wanted}
            )
            self.updates += 1
        except ApiException as error:
            if error.status not in (404, 409):
                raise

    def _status(self, pod: Any) -> dict[str, Any]:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        statuses = []
        all_ready = True
        pulled_all = True
        for container in pod.spec.containers:
            state, reason = self.rules.container_state(container)
            ready = state == "running"
            all_ready = all_ready and ready
            entry: dict[str, Any] = {
                "name": container.name,
                "image": container.image,
                "imageID": ""
                if reason == "ImagePullBackOff"
                else f"docker-pullable://{container.image}",
                "ready": ready,
                "started": ready,
                "restartCount": 3 if reason == "OOMKilled" else 0,
            }
            if state == "running":
                entry["state"] = {"running": {"startedAt": now}}
                entry["lastState"] = {}
            elif reason == "OOMKilled":
                entry["state"] = {
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": "back-off restarting failed container",
                    }
                }
                entry["lastState"] = {
                    "terminated": {
                        "reason": "OOMKilled",
                        "exitCode": 137,
                        "startedAt": now,
                        "finishedAt": now,
                    }
                }
            else:
                pulled_all = False
                entry["state"] = {
                    "waiting": {
                        "reason": reason,
                        "message": f'Back-off pulling image "{container.image}"',
                    }
                }
                entry["lastState"] = {}
            statuses.append(entry)
        condition = "True" if all_ready else "False"
        return {
            "phase": "Running" if pulled_all else "Pending",
            "hostIP": "10.1.0.1",
            "podIP": "10.2.0.1",
            "startTime": now,
            "conditions": [
                {"type": "Initialized", "status": "True", "lastTransitionTime": now},
                {"type": "Ready", "status": condition, "lastTransitionTime": now},
                {"type": "ContainersReady", "status": condition, "lastTransitionTime": now},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            ],
            "containerStatuses": statuses,
        }


def _signature(status: Any) -> tuple[Any, ...]:
    if status is None:
        return ()
    containers = tuple(
        (
            s.name,
            s.image,
            s.ready,
            (
                s.state.waiting.reason
                if s.state and s.state.waiting
                else "running"
                if s.state and s.state.running
                else None
            ),
        )
        for s in (status.container_statuses or [])
    )
    return (status.phase, containers)


def _signature_of_body(status: dict[str, Any]) -> tuple[Any, ...]:
    containers = tuple(
        (
            s["name"],
            s["image"],
            s["ready"],
            s["state"]["waiting"]["reason"] if "waiting" in s["state"] else "running",
        )
        for s in status["containerStatuses"]
    )
    return (status["phase"], containers)
