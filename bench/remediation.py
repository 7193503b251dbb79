"""Remediation figures (issue #16's "Measured"):

recovery    per action kind, the time from the failure signal to a validated recovery, against a
            real kube-apiserver (with the test-side kubelet), moto's server and recorded Jenkins
            responses: median and p95 of --runs runs
throughput  actions per second the engine carries out (plan → gate → snapshot → apply →
            validate), one engine and four at once, on SQLite and PostgreSQL, against the rate
            of the store's bare transactions measured in the same run
fuzz        --examples hypothesis streams of plans, approvals, runs, dying remediators and time
            under random policies: actions outside policy, double applies, limits exceeded
kube-build  scripts/kube-build.sh with its cache (median of --runs), and cold (--cold: a fresh
            cache folder; minutes)

  .venv/bin/python bench/remediation.py [--only recovery|throughput|fuzz|kube-build] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from recoverops.remediation.clients import Clients  # noqa: E402
from recoverops.remediation.engine import Engine  # noqa: E402
from recoverops.remediation.kinds import KINDS  # noqa: E402
from recoverops.remediation.model import ActionSpec, ActionStatus  # noqa: E402
from recoverops.remediation.policy import parse_policy  # noqa: E402
from recoverops.settings import Settings  # noqa: E402
from recoverops.store import Store  # noqa: E402

AUTO = "version: 1\ndefault: auto\n"
POSTGRES = os.environ.get(
    "RECOVEROPS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def quantiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):6.2f} s   p95 {p95:6.2f} s   (n={len(ordered)})"


def engine_over(
    settings: Settings, store: Store, *, kinds: Any = KINDS, poll_s: float = 0.2
) -> Engine:
    policy = parse_policy(AUTO, source="bench", known_kinds=kinds)
    return Engine(
        store, policy=policy, clients=Clients(settings), actor="bench", kinds=kinds, poll_s=poll_s
    )


def timed(engine: Engine, kind: str, params: dict[str, Any], *, since: float) -> float:
    action, _ = engine.plan(
        ActionSpec(kind=kind, params=params, validate_within=120), key=uuid.uuid4().hex
    )
    done = engine.run(action.id)
    if done is None or done.status is not ActionStatus.SUCCEEDED:
        raise RuntimeError(f"{kind} did not recover: {None if done is None else done.result}")
    return time.monotonic() - since


# Recovery per kind


def recovery(runs: int) -> None:
    print("== failure signal → validated recovery, per action kind")
    with tempfile.TemporaryDirectory() as tmp:
        recovery_kubernetes(Path(tmp), runs)
        recovery_aws(Path(tmp), runs)
        recovery_jenkins(Path(tmp), runs)


def recovery_kubernetes(tmp: Path, runs: int) -> None:
    from kubernetes import client

    from tests.kubernetes.cluster import KubeCluster
    from tests.kubernetes.kubelet import Kubelet, Rules

    with KubeCluster.start(tmp / "kube") as cluster:
        settings = Settings(home=tmp / "k8s-home", database_url=None, kubeconfig=cluster.kubeconfig)
        store = Store.open(settings)
        engine = engine_over(settings, store)
        api = cluster.api_client()
        apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
        image = "registry.example/shop/web"
        rules = Rules(allowed_tags={image: {"1.0"}}, memory_need={"app": 200 * 2**20})
        samples: dict[str, list[float]] = {}

        for run in range(runs):
            ns = f"bench-{run}-{uuid.uuid4().hex[:6]}"
            core.create_namespace({"metadata": {"name": ns}})
            kubelet = Kubelet(api, namespaces=[ns], rules=rules).start()
            try:
                _kube_round(engine, apps, core, ns, image, samples)
            finally:
                kubelet.stop()
                core.delete_namespace(ns)
        for kind, values in samples.items():
            print(f"  {kind:<40} {quantiles(values)}")
        print(
            f"  (kube-apiserver {cluster.server}; binaries ready in {cluster.build_seconds:.1f} s)"
        )
        api.close()
        store.close()


def _kube_round(
    engine: Engine, apps: Any, core: Any, ns: str, image: str, samples: dict[str, list[float]]
) -> None:
    """One run of every Kubernetes kind in namespace `ns`, timed into `samples`."""
    from tests.kubernetes.fixtures import deployment

    # ImagePullBackOff after a bad image → roll back to the previous revision
    apps.create_namespaced_deployment(ns, deployment("web", image=f"{image}:1.0"))
    _until(lambda: _available(apps, ns, "web", 2))
    bad = {
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": f"{image}:1.1"}]}}}
    }
    apps.patch_namespaced_deployment("web", ns, bad)
    signal = _until(lambda: _trouble(core, ns, "ImagePullBackOff"))
    samples.setdefault("k8s.rollback (ImagePullBackOff)", []).append(
        timed(engine, "k8s.rollback", {"namespace": ns, "deployment": "web"}, since=signal)
    )
    # OOMKilled under a low limit → a higher memory limit
    apps.create_namespaced_deployment(
        ns, deployment("api", image=f"{image}:1.0", memory_limit="128Mi")
    )
    signal = _until(lambda: _trouble(core, ns, "OOMKilled"))
    params = {
        "namespace": ns,
        "deployment": "api",
        "container": "app",
        "limits": {"memory": "256Mi"},
    }
    samples.setdefault("k8s.set_resources (OOMKilled)", []).append(
        timed(engine, "k8s.set_resources", params, since=signal)
    )
    others: list[tuple[str, dict[str, Any]]] = [
        ("k8s.scale", {"namespace": ns, "deployment": "web", "replicas": 3}),
        ("k8s.rollout_restart", {"namespace": ns, "deployment": "web"}),
    ]
    for kind, more in others:
        samples.setdefault(kind, []).append(timed(engine, kind, more, since=time.monotonic()))
    pod = core.list_namespaced_pod(ns, label_selector="app=web").items[0].metadata.name
    samples.setdefault("k8s.delete_pod", []).append(
        timed(
            engine,
            "k8s.delete_pod",
            {"namespace": ns, "pod": pod},
            since=time.monotonic(),
        )
    )
    node = f"bench-node-{uuid.uuid4().hex[:6]}"
    core.create_node({"metadata": {"name": node}})
    samples.setdefault("k8s.cordon_node", []).append(
        timed(engine, "k8s.cordon_node", {"node": node}, since=time.monotonic())
    )
    core.delete_node(node)


def _available(apps: Any, ns: str, name: str, replicas: int) -> bool:
    status = apps.read_namespaced_deployment(name, ns).status
    return bool(status.available_replicas == replicas and status.updated_replicas == replicas)


def _trouble(core: Any, ns: str, reason: str) -> bool:
    from recoverops.remediation.kinds.kubernetes import pod_troubles

    return any(reason in t for p in core.list_namespaced_pod(ns).items for t in pod_troubles(p))


def _until(check: Callable[[], bool], timeout: float = 120.0) -> float:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the cluster did not get there")
        time.sleep(0.05)
    return time.monotonic()


def recovery_aws(tmp: Path, runs: int) -> None:
    import boto3

    sys.path.insert(0, str(REPO))
    from tests.remediation.moto_fixture import moto_server
    from tests.remediation.test_aws import ecs_service, iam_role, instance, lambda_function

    with moto_server() as url:
        settings = Settings(home=tmp / "aws-home", database_url=None, aws_endpoint_url=url)
        store = Store.open(settings)
        policy = parse_policy(
            AUTO
            + 'rules:\n  - name: iam\n    kinds: ["iam.attach_role_policy"]\n    effect: auto\n',
            source="bench",
            known_kinds=KINDS,
        )
        engine = Engine(store, policy=policy, clients=Clients(settings), actor="bench", poll_s=0.1)

        def aws(service: str) -> Any:
            return boto3.client(service, endpoint_url=url, region_name="us-east-1")

        samples: dict[str, list[float]] = {}
        for _ in range(runs):
            cases: list[tuple[str, dict[str, Any]]] = []
            instance_id = instance(aws)
            cases += [
                (k, {"instance_id": instance_id})
                for k in ("ec2.reboot", "ec2.stop_start", "ec2.recover")
            ]
            cluster, service, _ = ecs_service(aws, revisions=2)
            cases += [
                (k, {"cluster": cluster, "service": service})
                for k in ("ecs.force_deployment", "ecs.rollback_task_definition")
            ]
            name = lambda_function(aws, versions=2)
            aws("lambda").create_alias(FunctionName=name, Name="live", FunctionVersion="2")
            cases += [
                ("lambda.update_configuration", {"function_name": name, "memory_size": 512}),
                ("lambda.reserved_concurrency", {"function_name": name, "reserved": 5}),
                ("lambda.alias_rollback", {"function_name": name, "alias": "live"}),
            ]
            bucket = f"bench-{uuid.uuid4().hex[:8]}"
            aws("s3").create_bucket(Bucket=bucket)
            policy_doc = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
            cases.append(("s3.repair_bucket_policy", {"bucket": bucket, "policy": policy_doc}))
            role, arn = iam_role(aws, "bench")
            cases.append(("iam.attach_role_policy", {"role": role, "policy_arn": arn}))
            for kind, params in cases:
                samples.setdefault(kind, []).append(
                    timed(engine, kind, params, since=time.monotonic())
                )
        for kind, values in samples.items():
            print(f"  {kind:<40} {quantiles(values)}   (moto)")
        store.close()


def recovery_jenkins(tmp: Path, runs: int) -> None:
    from tests.connectors.fake_server import Reply
    from tests.remediation.recorded_server import recorded_server

    recorded = REPO / "tests/fixtures/ci_api/jenkins"
    with recorded_server() as server:
        body = (recorded / "jenkins-rest-build-info.json").read_bytes()
        server.route("GET", "/job/fish/10/api/json", Reply(200, body))
        server.route(
            "POST",
            "/job/fish/buildWithParameters",
            Reply(201, b"", {"Location": "{url}/queue/item/143/"}),
        )
        server.route(
            "GET",
            "/queue/item/143/api/json",
            Reply(200, (recorded / "jenkins-rest-queueItemRunning.json").read_bytes()),
        )
        server.route("GET", "/job/fish/14/api/json", Reply(200, body))
        settings = Settings(home=tmp / "ci-home", database_url=None, jenkins_url=server.url)
        store = Store.open(settings)
        engine = engine_over(settings, store)
        samples = [
            timed(engine, "jenkins.rebuild", {"job": "fish", "build": 10}, since=time.monotonic())
            for _ in range(runs)
        ]
        print(f"  {'jenkins.rebuild':<40} {quantiles(samples)}   (recorded responses)")
        store.close()


# Throughput


@contextmanager
def store_for(backend: str, tmp: Path) -> Iterator[tuple[Settings, Store]]:
    if backend == "sqlite":
        settings = Settings(home=tmp / f"tp-{uuid.uuid4().hex[:6]}", database_url=None)
        store = Store.open(settings)
        yield settings, store
        store.close()
        return
    import psycopg

    name = f"recoverops_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + f"/{name}"
    settings = Settings(database_url=url)
    store = Store.open(settings)
    try:
        yield settings, store
    finally:
        store.close()
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def throughput(actions: int) -> None:
    from tests.remediation.world import World, kinds_for

    print(
        f"== actions per second the engine carries out ({actions} actions of the in-process kind)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for backend in ("sqlite", "postgresql"):
            with store_for(backend, Path(tmp)) as (settings, store):
                world = World(versions={f"s{n}": "v1" for n in range(actions)}, good={"v1", "v2"})
                kinds = kinds_for(world)
                began = time.perf_counter()
                for n in range(actions):  # the bare store: one audited transaction
                    store.audit("bench", "baseline", subject=f"s{n}", detail={})
                per_transaction = (time.perf_counter() - began) / actions
                for workers in (1, 4):
                    engines = [
                        engine_over(settings, store, kinds=kinds, poll_s=0.0)
                        for _ in range(workers)
                    ]
                    todo = list(range(actions))
                    lock = threading.Lock()
                    tag = uuid.uuid4().hex[:6]

                    threads = [
                        threading.Thread(target=_drain, args=(e, todo, lock, tag, world))
                        for e in engines
                    ]
                    began = time.perf_counter()
                    for thread in threads:
                        thread.start()
                    for thread in threads:
                        thread.join()
                    took = time.perf_counter() - began
                    rate, each = actions / took, took / actions
                    print(
                        f"  {backend:<10} {workers} engine(s): {rate:7.1f} actions/s "
                        f"({1000 * each:5.1f} ms each = {each / per_transaction:4.1f} "
                        f"bare transactions of {1000 * per_transaction:.2f} ms)"
                    )


def _drain(engine: Engine, todo: list[int], lock: threading.Lock, tag: str, world: Any) -> None:
    """Plan and carry out actions until `todo` is empty (one worker of the throughput run)."""
    while True:
        with lock:
            if not todo:
                return
            n = todo.pop()
        spec = ActionSpec(kind="mem.set_version", params={"service": f"s{n}", "version": "v2"})
        action, _ = engine.plan(spec, key=f"{tag}/{n}")
        done = engine.run(action.id)
        assert done is not None and done.status is ActionStatus.SUCCEEDED, done
        world.versions[f"s{n}"] = "v1"


# Fuzz


def fuzz(examples: int) -> None:
    from hypothesis import HealthCheck, given, settings

    from tests.remediation.fuzz import Report, policies, run_stream, streams

    print(f"== {examples} fuzzed streams of plans and policies")
    totals = Report()
    with tempfile.TemporaryDirectory() as tmp:
        settings_ = Settings(home=Path(tmp), database_url=None)
        store = Store.open(settings_)
        clients = Clients(settings_)

        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(policy=policies(), ops=streams)
        def one(policy: str | None, ops: list[tuple[Any, ...]]) -> None:
            report = run_stream(store, clients, policy, ops)
            totals.actions += report.actions
            totals.applied += report.applied
            totals.outside_policy += report.outside_policy
            totals.double_applies += report.double_applies
            totals.over_limit += report.over_limit
            totals.statuses.update(report.statuses)

        began = time.perf_counter()
        one()
        took = time.perf_counter() - began
        store.close()
    print(f"  {totals.actions} actions planned, {totals.applied} applied, in {took:.0f} s")
    print(
        f"  outside policy: {len(totals.outside_policy)}   "
        f"double applies: {len(totals.double_applies)}   over a limit: {len(totals.over_limit)}"
    )
    print(f"  final statuses: {dict(totals.statuses.most_common())}")


# kube-apiserver build


def kube_build(runs: int, cold: bool) -> None:
    script = REPO / "scripts" / "kube-build.sh"
    print("== scripts/kube-build.sh")
    if cold:
        with tempfile.TemporaryDirectory() as cache:
            began = time.perf_counter()
            subprocess.run(
                ["bash", str(script)],
                env={**os.environ, "RECOVEROPS_KUBE_CACHE": cache},
                check=True,
                capture_output=True,
            )
            print(
                f"  cold (empty cache, apt packages present): {time.perf_counter() - began:.0f} s"
            )
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(["bash", str(script)], check=True, capture_output=True)
        samples.append(time.perf_counter() - began)
    print(f"  cached: median {statistics.median(samples) * 1000:.0f} ms over {runs} runs")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=["recovery", "throughput", "fuzz", "kube-build"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--actions", type=int, default=300)
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--cold", action="store_true", help="also time a build into an empty cache")
    args = parser.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    if args.only in (None, "kube-build"):
        kube_build(args.runs, args.cold)
    if args.only in (None, "recovery"):
        recovery(args.runs)
    if args.only in (None, "throughput"):
        throughput(args.actions)
    if args.only in (None, "fuzz"):
        fuzz(args.examples)


if __name__ == "__main__":
    main()
