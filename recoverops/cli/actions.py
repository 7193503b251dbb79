"""`recoverops actions list|show|approve|reject|rollback` and `recoverops policy check FILE`.

    recoverops actions list [--status S] [--incident N] [--json]
    recoverops actions show ID                     the action, its snapshot, result, audit trail
    recoverops actions approve ID [--by NAME] [--note TEXT]
    recoverops actions reject ID [--by NAME] [--note TEXT]
    recoverops actions rollback ID [--by NAME]     undo a succeeded action with its inverse, now
    recoverops policy check FILE [--kind K --target T]

Exit codes: 0 done, 1 refused (no such action, or not in a status that allows it), 2 bad usage,
3 an invalid setting or policy file (the message names the file and line).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recoverops.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    load_settings,
    say,
    whole_number,
)
from recoverops.errors import ActionError, ConfigurationError, NotFoundError
from recoverops.remediation.model import ActionRecord, ActionStatus

if TYPE_CHECKING:
    from recoverops.remediation.engine import Engine
    from recoverops.store import Store

# The engine, the store (SQLAlchemy, Alembic) and the action kinds (cloud clients) are imported
# by the commands that use them: `recoverops analyze` registers these parsers too, and must not
# pay for them (issue #14: analyze in ≤ 1 s).

# One sample target per kind for `policy check`: what each kind's target looks like.
SAMPLE_TARGETS: dict[str, str] = {
    "k8s.rollout_restart": "k8s:production/deployment/checkout",
    "k8s.scale": "k8s:production/deployment/checkout",
    "k8s.set_resources": "k8s:production/deployment/checkout",
    "k8s.rollback": "k8s:production/deployment/checkout",
    "k8s.delete_pod": "k8s:staging/pod/checkout-7d9c6-x2x4q",
    "k8s.cordon_node": "k8s:node/ip-10-0-3-17",
    "k8s.uncordon_node": "k8s:node/ip-10-0-3-17",
    "ec2.reboot": "aws:ec2:i-0123456789abcdef0",
    "ec2.stop_start": "aws:ec2:i-0123456789abcdef0",
    "ec2.recover": "aws:ec2:i-0123456789abcdef0",
    "ecs.force_deployment": "aws:ecs:production/checkout",
    "ecs.rollback_task_definition": "aws:ecs:production/checkout",
    "lambda.update_configuration": "aws:lambda:resize-images",
    "lambda.reserved_concurrency": "aws:lambda:resize-images",
    "lambda.alias_rollback": "aws:lambda:resize-images:live",
    "s3.repair_bucket_policy": "aws:s3:assets-production",
    "iam.attach_role_policy": "aws:iam:role/deployer",
    "github.rerun_failed_jobs": "github:acme/shop/actions/runs/123456",
    "gitlab.retry_job": "gitlab:acme/shop/jobs/987",
    "jenkins.rebuild": "jenkins:shop/main#42",
}


def register(commands: Any) -> None:
    actions = commands.add_parser(
        "actions", help="list, show, approve, reject or roll back remediation actions"
    )
    verbs = actions.add_subparsers(dest="verb", metavar="VERB", required=True)
    listing = verbs.add_parser("list", help="actions, newest first")
    listing.add_argument("--status", choices=[s.value for s in ActionStatus])
    listing.add_argument("--incident", type=whole_number(1), metavar="ID")
    listing.add_argument("--limit", type=whole_number(1), default=50)
    listing.add_argument("--json", action="store_true", help="one JSON object per action")
    listing.set_defaults(run=run_list)
    show = verbs.add_parser("show", help="one action with its snapshot, result and audit trail")
    show.add_argument("id", type=whole_number(1))
    show.set_defaults(run=run_show)
    for verb, what in (
        ("approve", "approve an action awaiting approval"),
        ("reject", "reject an action awaiting approval"),
        ("rollback", "undo a succeeded action with its inverse, now"),
    ):
        parser = verbs.add_parser(verb, help=what)
        parser.add_argument("id", type=whole_number(1))
        parser.add_argument("--by", default=None, help="who (default: the login name)")
        parser.add_argument("--note", default="", help="why")
        parser.set_defaults(run=run_answer, verb=verb)

    policy = commands.add_parser("policy", help="check a remediation policy file")
    policy_verbs = policy.add_subparsers(dest="verb", metavar="VERB", required=True)
    check = policy_verbs.add_parser(
        "check", help="validate a policy and print what it decides for sample actions"
    )
    check.add_argument("file", type=Path)
    check.add_argument("--kind", action="append", default=[], help="a kind to judge (repeatable)")
    check.add_argument("--target", action="append", default=[], help="its target (one per --kind)")
    check.set_defaults(run=run_policy_check)


def _open() -> tuple[Store, Engine] | None:
    from recoverops.remediation.clients import Clients
    from recoverops.remediation.engine import Engine
    from recoverops.store import Store

    settings = load_settings()
    if settings is None:
        return None
    store = Store.open(settings)
    # Answering and rolling back need no policy: the operator decides.
    return store, Engine(store, policy=None, clients=Clients(settings), actor="cli")


def run_list(args: argparse.Namespace) -> int:
    opened = _open()
    if opened is None:
        return EXIT_CONFIG
    store, engine = opened
    try:
        status = None if args.status is None else {ActionStatus(args.status)}
        records = engine.actions.find(status=status, incident_id=args.incident, limit=args.limit)
    finally:
        store.close()
    if args.json:
        for record in records:
            sys.stdout.write(json.dumps(_as_json(record), default=str) + "\n")
        return EXIT_OK
    sys.stdout.write(f"{'ID':>6}  {'STATUS':<17} {'KIND':<28} {'TARGET':<44} DECIDED BY\n")
    for r in records:
        sys.stdout.write(
            f"{r.id:>6}  {r.status.value:<17} {r.kind:<28} {r.target:<44} {r.decided_by or ''}\n"
        )
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    opened = _open()
    if opened is None:
        return EXIT_CONFIG
    store, engine = opened
    try:
        record = engine.actions.get(args.id)
        if record is None:
            say(f"no action {args.id}")
            return EXIT_FAILED
        trail = engine.actions.trail(args.id)
    finally:
        store.close()
    shown = {
        **_as_json(record),
        "snapshot": record.snapshot,
        "result": record.result,
        "trail": [
            {"at": e.at.isoformat(), "actor": e.actor, "verb": e.verb, "detail": e.detail}
            for e in trail
        ],
    }
    sys.stdout.write(json.dumps(shown, indent=2, default=str) + "\n")
    return EXIT_OK


def run_answer(args: argparse.Namespace) -> int:
    opened = _open()
    if opened is None:
        return EXIT_CONFIG
    store, engine = opened
    who = args.by or getpass.getuser()
    try:
        if args.verb == "approve":
            record = engine.approve(args.id, operator=who, note=args.note)
        elif args.verb == "reject":
            record = engine.reject(args.id, operator=who, note=args.note)
        else:
            record = engine.rollback(args.id, operator=who, note=args.note)
    except (NotFoundError, ActionError) as error:
        say(str(error))
        return EXIT_FAILED
    finally:
        store.close()
    sys.stdout.write(f"action {record.id}: {record.status.value} ({record.decided_by})\n")
    if args.verb == "rollback" and record.status is not ActionStatus.ROLLED_BACK:
        say(f"the rollback did not complete: {record.result.get('rollback', record.status.value)}")
        return EXIT_FAILED
    return EXIT_OK


def run_policy_check(args: argparse.Namespace) -> int:
    from recoverops.remediation.decide import Proposed, decide
    from recoverops.remediation.kinds import KINDS
    from recoverops.remediation.policy import load_policy

    try:
        policy = load_policy(args.file, known_kinds=KINDS)
    except ConfigurationError as error:
        say(f"invalid policy: {error}")
        return EXIT_CONFIG
    if len(args.kind) != len(args.target):
        say("give one --target for each --kind")
        return 2
    unknown = [k for k in args.kind if k not in KINDS]
    if unknown:
        say(f"unknown action kind {unknown[0]!r}; known: {', '.join(sorted(KINDS))}")
        return 2
    samples = list(zip(args.kind, args.target, strict=True)) or list(SAMPLE_TARGETS.items())
    now = datetime.now(UTC)
    sys.stdout.write(f"{args.file}: valid; {len(policy.rules)} rules, default {policy.default}\n")
    sys.stdout.write(f"{'KIND':<30} {'TARGET':<44} {'ENVIRONMENT':<12} {'EFFECT':<8} RULE\n")
    for kind_name, target in samples:
        kind = KINDS[kind_name]
        proposed = Proposed(kind=kind_name, target=target, risk=kind.risk, sensitive=kind.sensitive)
        decision = decide(policy, proposed, history=[], now=now)
        sys.stdout.write(
            f"{kind_name:<30} {target:<44} {policy.environment_of(target):<12} "
            f"{decision.effect.value:<8} {decision.rule}\n"
        )
    return EXIT_OK


def _as_json(record: ActionRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "key": record.key,
        "incident_id": record.incident_id,
        "kind": record.kind,
        "system": record.system.value,
        "target": record.target,
        "environment": record.environment,
        "risk": record.risk.value,
        "params": record.params,
        "reason": record.reason,
        "status": record.status.value,
        "decision": record.decision,
        "decided_by": record.decided_by,
        "approval_deadline": record.approval_deadline,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }
