"""Which services the server speaks: the JSON services by X-Amz-Target prefix, and our own extra routes."""

from __future__ import annotations

import functools
import importlib
from typing import Any

from cronbridge.api.protocols.json import JsonService


@functools.cache
def json_services() -> dict[str, JsonService]:
    from cronbridge.api.services import cloudwatch, ecs, events, logs, sqs

    services = [ecs.SERVICE, events.SERVICE, logs.SERVICE, sqs.SERVICE, cloudwatch.SERVICE]
    return {s.target_prefix: s for s in services}


@functools.cache
def rest_services() -> dict[str, Any]:
    """rest-json services by their SigV4 signing name ('scheduler')."""
    from cronbridge.api.services import scheduler

    return {s.signing_name: s for s in (scheduler.SERVICE,)}


@functools.cache
def query_services() -> dict[str, Any]:
    """Query-protocol services by their SigV4 signing name ('iam', 'sts')."""
    found: dict[str, Any] = {}
    for name in ("iam", "sts"):
        try:
            module = importlib.import_module(f"cronbridge.api.services.{name}")
        except ModuleNotFoundError:  # not built yet: such requests get UnknownOperationException
            continue
        found[module.SERVICE.signing_name] = module.SERVICE
    return found


def extra_routes() -> list[Any]:
    """Routes of our own (invocations, explain, ...) beside the AWS ones."""
    from cronbridge import web
    from cronbridge.api.services import (
        cronbridge_api,
        explain_api,
        oidc_keys_api,
        prometheus,
        task_credentials,
        views_api,
    )

    return [
        *cronbridge_api.routes(), *explain_api.routes(), *oidc_keys_api.routes(), *task_credentials.routes(),
        *prometheus.routes(), *views_api.routes(), *web.routes(),
    ]
