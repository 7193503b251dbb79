"""The workload a pod belongs to, through its ownerReferences: ReplicaSet → Deployment,
Job → CronJob, StatefulSet, DaemonSet, Job; a pod with no controller is its own workload.

Answers are cached in bounded LRU maps (owner → workload, pod → workload), so resolving the
pods of a crash-looping Deployment costs one ReplicaSet read, and memory stays bounded however
many pods come and go.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True, order=True)
class Workload:
    """What an incident is about: `namespace/Kind/name` (`Kind/name` for a node)."""

    namespace: str
    kind: str
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{where}{self.kind}/{self.name}"


class Lru(Generic[K, V]):
    """A map that forgets its least recently used entries beyond `limit`."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._limit:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def _controller(meta: Any) -> Any | None:
    owners = meta.owner_references or []
    for owner in owners:
        if owner.controller:
            return owner
    return owners[0] if owners else None


class OwnerResolver:
    """Reads ReplicaSets and pods through the API client, caching what it learnt."""

    def __init__(self, api_client: Any, *, cache_size: int = 2048) -> None:
        from kubernetes import client

        self._core = client.CoreV1Api(api_client)
        # Owners that are themselves owned by the workload an operator names.
        self._readers: dict[str, Callable[[str, str], Any]] = {
            "ReplicaSet": client.AppsV1Api(api_client).read_namespaced_replica_set,
            "Job": client.BatchV1Api(api_client).read_namespaced_job,
        }
        self._owners: Lru[tuple[str, str, str], Workload] = Lru(cache_size)
        self._pods: Lru[tuple[str, str], Workload] = Lru(cache_size)

    def of_pod(self, pod: Any) -> Workload:
        meta = pod.metadata
        key = (meta.namespace, meta.name)
        known = self._pods.get(key)
        if known is not None:
            return known
        workload = self._owning(meta)
        self._pods.put(key, workload)
        return workload

    def of_object(self, kind: str, namespace: str, name: str) -> Workload:
        """The workload of an event's involved object: a pod is read (once) for its owners."""
        if kind != "Pod":
            return Workload(namespace, kind, name)
        known = self._pods.get((namespace, name))
        if known is not None:
            return known
        from kubernetes.client.exceptions import ApiException

        try:
            pod = self._core.read_namespaced_pod(name, namespace)
        except ApiException as error:
            if error.status == 404:  # gone (an evicted pod): the pod is all we can name
                return Workload(namespace, "Pod", name)
            raise
        return self.of_pod(pod)

    def _owning(self, meta: Any) -> Workload:
        owner = _controller(meta)
        if owner is None:
            return Workload(meta.namespace, "Pod", meta.name)
        return self.of_owner(meta.namespace, owner.kind, owner.name)

    def of_owner(self, namespace: str, kind: str, name: str) -> Workload:
        """The workload behind a pod's owner: a ReplicaSet's Deployment, a Job's CronJob (each
        read once); any other owner is the workload itself."""
        from kubernetes.client.exceptions import ApiException

        read = self._readers.get(kind)
        if read is None:
            return Workload(namespace, kind, name)
        key = (namespace, kind, name)
        known = self._owners.get(key)
        if known is not None:
            return known
        try:
            owned = read(name, namespace)
        except ApiException as error:
            if error.status != 404:
                raise
            return Workload(namespace, kind, name)  # deleted: not cached, asked again
        owner = _controller(owned.metadata)
        workload = (
            Workload(namespace, owner.kind, owner.name)
            if owner is not None
            else Workload(namespace, kind, name)
        )
        self._owners.put(key, workload)
        return workload

    def cached(self) -> int:
        return len(self._owners) + len(self._pods)
