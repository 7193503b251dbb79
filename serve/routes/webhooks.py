"""POST /webhooks/{github,gitlab,jenkins}: CI systems report what their jobs did; POST
/webhooks/aws: AWS events, EventBridge → SNS → here (`webhooks.sns` proves SNS sent them,
`webhooks.aws` reads the event).

Each answers 202 `{"event_id", "redelivery", "failure"}` once the event is stored (and queued
when it reports a failure), 202 `{"ignored": true}` for an event type RecoverOps does not use
(so the sender's delivery log shows a success rather than an error to chase), and refuses with
401 (credentials), 403 (no secret configured for this webhook: closed by default, unless
RECOVEROPS_ENV=development), 400 (malformed, with the reason: a `MalformedPayload` raised while
reading), 413 (too large), 415 (media type) or 503 (the store or the queue is down: retry the
delivery; an event stored before the queue failed is queued by its redelivery).

/webhooks/aws answers an SNS SubscriptionConfirmation with 200 once it confirmed it (GET of its
SubscribeURL; 503 if that failed, so SNS sends it again), an UnsubscribeConfirmation with 200,
and a Notification like the others; 401 is a message SNS did not sign (its certificate's URL, or
its signature), 403 a topic that is not in RECOVEROPS_AWS_SNS_TOPIC_ARNS.
"""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any
from urllib.parse import parse_qs

import httpx
from fastapi import APIRouter, Header, Request, Response
from pydantic import SecretStr
from redis import RedisError
from sqlalchemy.exc import SQLAlchemyError

from recoverops.correlation import CorrelationRules
from recoverops.incidents import Source

from ..body import FORM, Body
from ..deps import AwsBody, GitHubBody, JsonBody, ServicesDep
from ..errors import FORBIDDEN, SERVICE_UNAVAILABLE, UNAUTHORIZED, Rejection, malformed
from ..ingest import ingest
from ..schemas import Accepted, Ignored, Pong, Refusal, SnsAnswer
from ..services import Services
from ..webhooks import Delivery, MalformedPayload, aws, github, gitlab, jenkins, sns
from ..webhooks.base import parse_json_object, secret_matches

log = logging.getLogger(__name__)

ACCEPTED = 202
OK = 200

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

_REFUSALS: dict[int | str, dict[str, Any]] = {
    status: {"model": Refusal} for status in (400, 401, 403, 413, 415, 503)
}


@router.post(
    "/github",
    status_code=ACCEPTED,
    response_model=Accepted | Ignored | Pong,
    responses={OK: {"model": Pong, "description": "A ping, answered"}, **_REFUSALS},
)
def github_webhook(
    body: GitHubBody,
    services: ServicesDep,
    response: Response,
    x_github_event: Annotated[str | None, Header()] = None,
    x_github_delivery: Annotated[str | None, Header()] = None,
    x_hub_signature_256: Annotated[str | None, Header()] = None,
) -> Accepted | Ignored | Pong:
    secret = _configured(services, "github_webhook_secret")
    if secret is not None and not github.signature_matches(
        secret.get_secret_value(), body.raw, x_hub_signature_256
    ):
        raise _unauthorized(x_hub_signature_256, "X-Hub-Signature-256 signature")
    if not x_github_event:
        raise malformed("missing X-GitHub-Event header")
    if x_github_event == github.PING:
        zen = _github_document(body).get("zen")
        services.metrics.received.labels(source=Source.GITHUB.value, outcome="ping").inc()
        response.status_code = OK
        return Pong(zen=zen if isinstance(zen, str) else None)
    if x_github_event not in github.EVENTS:
        return _ignored(services, Source.GITHUB, x_github_event)
    if not x_github_delivery:
        raise malformed("missing X-GitHub-Delivery header")
    delivery = github.delivery(x_github_event, x_github_delivery, _github_document(body))
    return _accept(services, Source.GITHUB, delivery)


@router.post(
    "/gitlab", status_code=ACCEPTED, response_model=Accepted | Ignored, responses=_REFUSALS
)
def gitlab_webhook(
    body: JsonBody,
    services: ServicesDep,
    request: Request,
    x_gitlab_event: Annotated[str | None, Header()] = None,
    x_gitlab_token: Annotated[str | None, Header()] = None,
) -> Accepted | Ignored:
    token = _configured(services, "gitlab_webhook_token")
    if token is not None and not secret_matches(x_gitlab_token, token.get_secret_value()):
        raise _unauthorized(x_gitlab_token, "X-Gitlab-Token")
    if not x_gitlab_event:
        raise malformed("missing X-Gitlab-Event header")
    if x_gitlab_event not in gitlab.EVENTS:
        return _ignored(services, Source.GITLAB, x_gitlab_event)
    key = gitlab.delivery_key(request.headers, body.raw)
    delivery = gitlab.delivery(x_gitlab_event, key, parse_json_object(body.raw))
    return _accept(services, Source.GITLAB, delivery)


@router.post("/jenkins", status_code=ACCEPTED, response_model=Accepted, responses=_REFUSALS)
def jenkins_webhook(
    body: JsonBody,
    services: ServicesDep,
    x_jenkins_token: Annotated[str | None, Header()] = None,
) -> Accepted:
    # The token only ever comes in a header: a query parameter ends up in access logs.
    expected = _configured(services, "jenkins_webhook_token")
    if expected is not None and not secret_matches(x_jenkins_token, expected.get_secret_value()):
        raise _unauthorized(x_jenkins_token, "X-Jenkins-Token header")
    delivery = jenkins.delivery(parse_json_object(body.raw))
    return _accept(services, Source.JENKINS, delivery)


@router.post(
    "/aws",
    status_code=ACCEPTED,
    response_model=Accepted | Ignored | SnsAnswer,
    responses={
        OK: {"model": SnsAnswer, "description": "A subscription message, handled"},
        **_REFUSALS,
    },
)
def aws_webhook(
    body: AwsBody,
    services: ServicesDep,
    response: Response,
    x_amz_sns_message_type: Annotated[str | None, Header()] = None,
) -> Accepted | Ignored | SnsAnswer:
    message = sns.parse(parse_json_object(body.raw), announced=x_amz_sns_message_type)
    _topic_accepted(services, message.topic_arn)
    try:
        services.sns.verify(message)
    except sns.Untrusted as error:
        raise Rejection(UNAUTHORIZED, "bad_signature", f"not signed by SNS: {error}") from None
    except sns.CertificateUnavailable as error:
        raise Rejection(SERVICE_UNAVAILABLE, "unavailable", f"{error}; retry") from None
    source = Source.AWS.value
    if message.type == sns.SUBSCRIPTION_CONFIRMATION:
        try:
            services.sns.confirm(message)
        except sns.Untrusted as error:
            raise Rejection(UNAUTHORIZED, "bad_subscribe_url", str(error)) from None
        except httpx.HTTPError as error:
            raise Rejection(
                SERVICE_UNAVAILABLE,
                "unconfirmed",
                f"the subscription could not be confirmed ({type(error).__name__}); SNS "
                "sends the confirmation again",
            ) from None
        log.info("confirmed the SNS subscription to %s", message.topic_arn)
        services.metrics.received.labels(source=source, outcome="subscribed").inc()
        response.status_code = OK
        return SnsAnswer(type=message.type, topic=message.topic_arn)
    if message.type == sns.UNSUBSCRIBE_CONFIRMATION:
        log.warning("SNS unsubscribed this endpoint from %s", message.topic_arn)
        services.metrics.received.labels(source=source, outcome="unsubscribed").inc()
        response.status_code = OK
        return SnsAnswer(type=message.type, topic=message.topic_arn)
    try:
        event = parse_json_object(message.message.encode())
    except MalformedPayload as error:
        raise MalformedPayload(f"the SNS Message is not an EventBridge event: {error}") from None
    read = aws.delivery(event)
    if isinstance(read, aws.Skipped):
        return _ignored(services, Source.AWS, read.event, read.reason)
    return _accept(services, Source.AWS, read)


def _topic_accepted(services: Services, topic: str) -> None:
    """Anyone can make an SNS topic and sign with SNS's key: only the operator's topics count."""
    topics = services.settings.aws_sns_topic_arns
    if not topics and not services.settings.development:
        raise Rejection(
            FORBIDDEN,
            "no_topic_configured",
            "this webhook accepts no SNS topic: set RECOVEROPS_AWS_SNS_TOPIC_ARNS (or "
            "RECOVEROPS_ENV=development to accept any topic on a test machine)",
        )
    if topics and topic not in topics:
        raise Rejection(FORBIDDEN, "topic_not_accepted", f"topic {topic:.200} is not accepted")


def _configured(services: Services, name: str) -> SecretStr | None:
    """The webhook's secret; with none configured, a refusal unless in development."""
    secret: SecretStr | None = getattr(services.settings, name)
    if secret is None and not services.settings.development:
        raise Rejection(
            FORBIDDEN,
            "no_secret_configured",
            f"this webhook has no secret: set RECOVEROPS_{name.upper()} (or "
            "RECOVEROPS_ENV=development to accept unsigned deliveries on a test machine)",
        )
    return secret


def _github_document(body: Body) -> dict[str, Any]:
    if body.media_type != FORM:
        return parse_json_object(body.raw)
    try:
        fields = parse_qs(body.raw.decode(), strict_parsing=True)
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedPayload(f"form body is not url-encoded text: {error}") from None
    payload = fields.get("payload")
    if not payload:
        raise MalformedPayload("form body has no payload field")
    return parse_json_object(payload[0].encode())


def _accept(services: Services, source: Source, delivery: Delivery) -> Accepted:
    started = time.perf_counter()
    try:
        ingested = ingest(
            services.store,
            services.queue,
            source=source,
            delivery=delivery,
            deploys=CorrelationRules.from_settings(services.settings),
        )
    except (SQLAlchemyError, RedisError, OSError) as error:
        log.exception("%s event %s not taken in", source.value, delivery.delivery_id)
        raise Rejection(
            SERVICE_UNAVAILABLE,
            "unavailable",
            f"the store or the queue is unavailable ({type(error).__name__}); retry the delivery",
        ) from error
    if ingested.queued:  # the ingest stage: received → stored and queued
        services.metrics.ingest.observe(time.perf_counter() - started)
    outcome = "redelivered" if ingested.redelivery else "stored"
    services.metrics.received.labels(source=source.value, outcome=outcome).inc()
    return Accepted(
        event_id=ingested.event_id, redelivery=ingested.redelivery, failure=delivery.failure
    )


def _ignored(services: Services, source: Source, event: str, reason: str | None = None) -> Ignored:
    services.metrics.received.labels(source=source.value, outcome="ignored").inc()
    return Ignored(event=event, reason=reason or f"RecoverOps reads no {event!r:.80} events")


def _unauthorized(given: str | None, what: str) -> Rejection:
    if given is None:
        return Rejection(UNAUTHORIZED, "missing_credentials", f"missing {what}")
    return Rejection(UNAUTHORIZED, "bad_credentials", f"{what} does not match")
