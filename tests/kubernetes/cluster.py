"""A real Kubernetes control plane for tests: etcd, kube-apiserver and kube-controller-manager on
127.0.0.1, built from Debian's `kubernetes` source package by `scripts/kube-build.sh` (cached
under ~/.cache/recoverops/kube; the first build takes minutes, later starts seconds).

Deployments, ReplicaSets, rollouts, scaling, rollbacks, pod deletion and replacement, events and
RBAC are all real. There is no scheduler and no kubelet: pods stay Pending unless a test sets
their status (see `kubelet.py`).

    with KubeCluster.start(workdir) as cluster:
        cluster.kubeconfig          # a file any client (kubectl, the kubernetes package) reads
        cluster.api_client()        # a kubernetes.client.ApiClient, admin
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "scripts" / "kube-build.sh"
READY_TIMEOUT_S = 90.0
TOKEN = "recoverops-test-admin-token"


class ClusterError(RuntimeError):
    pass


def build_binaries() -> Path:
    """The folder with kube-apiserver and kube-controller-manager: built once, then cached."""
    done = subprocess.run(
        ["bash", str(BUILD_SCRIPT)], capture_output=True, text=True, check=False, timeout=3600
    )
    if done.returncode != 0:
        raise ClusterError(f"{BUILD_SCRIPT.name} failed:\n{done.stderr[-4000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(folder: Path) -> None:
    """A CA, a serving certificate for 127.0.0.1, and the service-account key pair."""
    folder.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=recoverops-test-ca",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        cwd=folder,
    )
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes\n")
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=kube-apiserver",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        cwd=folder,
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.cnf",
        "-out",
        "server.crt",
        cwd=folder,
    )
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=folder)
    _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=folder)


@dataclass
class KubeCluster:
    workdir: Path
    server: str
    kubeconfig: Path
    ca: Path
    processes: list[subprocess.Popen[bytes]]
    build_seconds: float

    @classmethod
    def start(cls, workdir: Path) -> KubeCluster:
        began = time.monotonic()
        binaries = build_binaries()
        built = time.monotonic() - began
        etcd = shutil.which("etcd")
        if etcd is None:
            raise ClusterError("etcd is not installed (scripts/kube-build.sh installs etcd-server)")
        pki = workdir / "pki"
        make_pki(pki)
        (workdir / "tokens.csv").write_text(f'{TOKEN},admin,admin-uid,"system:masters"\n')
        etcd_port, peer_port, api_port = free_port(), free_port(), free_port()
        logs = workdir / "logs"
        logs.mkdir(exist_ok=True)
        processes: list[subprocess.Popen[bytes]] = []
        cluster = cls(
            workdir=workdir,
            server=f"https://127.0.0.1:{api_port}",
            kubeconfig=workdir / "kubeconfig",
            ca=pki / "ca.crt",
            processes=processes,
            build_seconds=built,
        )
        try:
            processes.append(
                _spawn(
                    [
                        etcd,
                        "--data-dir",
                        str(workdir / "etcd"),
                        "--name",
                        "test",
                        "--listen-client-urls",
                        f"http://127.0.0.1:{etcd_port}",
                        "--advertise-client-urls",
                        f"http://127.0.0.1:{etcd_port}",
                        "--listen-peer-urls",
                        f"http://127.0.0.1:{peer_port}",
                        "--initial-advertise-peer-urls",
                        f"http://127.0.0.1:{peer_port}",
                        "--initial-cluster",
                        f"test=http://127.0.0.1:{peer_port}",
                    ],
                    logs / "etcd.log",
                )
            )
            processes.append(
                _spawn(
                    [
                        str(binaries / "kube-apiserver"),
                        f"--etcd-servers=http://127.0.0.1:{etcd_port}",
                        "--bind-address=127.0.0.1",
                        f"--secure-port={api_port}",
                        "--insecure-port=0",
                        f"--tls-cert-file={pki / 'server.crt'}",
                        f"--tls-private-key-file={pki / 'server.key'}",
                        f"--client-ca-file={pki / 'ca.crt'}",
                        "--service-account-issuer=https://kubernetes.default.svc",
                        f"--service-account-key-file={pki / 'sa.pub'}",
                        f"--service-account-signing-key-file={pki / 'sa.key'}",
                        f"--token-auth-file={workdir / 'tokens.csv'}",
                        "--authorization-mode=RBAC",
                        "--service-cluster-ip-range=10.0.0.0/24",
                        "--endpoint-reconciler-type=none",
                        # No kubelet mounts tokens: pods need no service account to be admitted.
                        "--disable-admission-plugins=ServiceAccount",
                        "--profiling=false",
                    ],
                    logs / "kube-apiserver.log",
                )
            )
            cluster._write_kubeconfig()
            cluster._wait_ready()
            processes.append(
                _spawn(
                    [
                        str(binaries / "kube-controller-manager"),
                        f"--kubeconfig={cluster.kubeconfig}",
                        "--controllers=*",
                        "--leader-elect=false",
                        f"--root-ca-file={pki / 'ca.crt'}",
                        f"--service-account-private-key-file={pki / 'sa.key'}",
                        "--bind-address=127.0.0.1",
                        "--secure-port=0",
                        "--port=0",
                        "--concurrent-deployment-syncs=5",
                        "--concurrent-replicaset-syncs=5",
                    ],
                    logs / "kube-controller-manager.log",
                )
            )
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _write_kubeconfig(self) -> None:
        self.kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\n"
            f"clusters:\n- name: test\n  cluster:\n    server: {self.server}\n"
            f"    certificate-authority: {self.ca}\n"
            f"users:\n- name: admin\n  user:\n    token: {TOKEN}\n"
            "contexts:\n- name: test\n  context:\n    cluster: test\n    user: admin\n"
            "current-context: test\n"
        )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        headers = {"Authorization": f"Bearer {TOKEN}"}
        last = "no answer"
        trusted = ssl.create_default_context(cafile=str(self.ca))
        with httpx.Client(verify=trusted, headers=headers, timeout=2.0) as client:
            while time.monotonic() < deadline:
                for process in self.processes:
                    if process.poll() is not None:
                        logs = self.workdir / "logs"
                        name = Path(
                            str(process.args[0] if isinstance(process.args, list) else process.args)
                        ).name
                        raise ClusterError(f"{name} exited with {process.returncode}; see {logs}")
                try:
                    answer = client.get(f"{self.server}/readyz")
                    if answer.status_code == 200:
                        return
                    last = f"{answer.status_code} {answer.text[-300:]}"
                except httpx.HTTPError as error:
                    last = str(error)
                time.sleep(0.2)  # the poll interval of a readiness wait
        raise ClusterError(f"kube-apiserver not ready after {READY_TIMEOUT_S:g}s: {last}")

    def api_client(self) -> Any:
        from kubernetes import config

        return config.new_client_from_config(config_file=str(self.kubeconfig))

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def __enter__(self) -> KubeCluster:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _spawn(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "GOMAXPROCS": "2"},
        )
