"""The routes' dependencies, as `Annotated` aliases: a route names what it needs by type."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from recoverops.settings import Settings
from recoverops.store import Store

from .body import FORM, JSON, TEXT, Body, BodyReader
from .metrics import Metrics
from .services import QueueHandle, Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_settings(services: ServicesDep) -> Settings:
    return services.settings


def get_store(services: ServicesDep) -> Store:
    return services.store


def get_queue(services: ServicesDep) -> QueueHandle:
    return services.queue


def get_metrics(services: ServicesDep) -> Metrics:
    return services.metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
QueueDep = Annotated[QueueHandle, Depends(get_queue)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]

JsonBody = Annotated[Body, Depends(BodyReader(JSON))]
# GitHub sends JSON, or `payload=<JSON>` form-encoded when the hook is set up that way.
GitHubBody = Annotated[Body, Depends(BodyReader(JSON, FORM))]
LogBody = Annotated[Body, Depends(BodyReader(TEXT, JSON))]
# SNS posts its JSON as text/plain.
AwsBody = Annotated[Body, Depends(BodyReader(TEXT, JSON))]
