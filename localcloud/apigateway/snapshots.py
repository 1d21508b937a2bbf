"""A deployment keeps a snapshot of its REST API, and stages serve that snapshot.

On AWS, ``CreateDeployment`` freezes the API as it is at that moment; a stage answers with
its deployment's frozen API until it is pointed at another deployment, and editing the API
changes nothing a client sees before the next deployment. moto's ``Deployment`` keeps only
an id and a description, so the gateway would otherwise serve the live API.

``install()`` wraps moto's ``RestAPI.create_deployment`` (the one path every deployment
takes: the API action, CloudFormation and ``CreateDeployment`` with a stage name) so the new
``Deployment`` carries an ``ApiSnapshot``: deep copies of the API's resources (methods,
integrations, integration and method responses), models, request validators, gateway
responses and authorizers, plus each resource's full path (moto computes paths from the live
API, which the snapshot must not follow). Snapshots are never mutated after they are taken,
so the gateway reads them without holding ``runtime.LOCK``.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from typing import Any

from moto.apigateway import models as apigw_models

log = logging.getLogger("localcloud.apigateway")

SNAPSHOT_ATTRIBUTE = "localcloud_snapshot"

_installed = False


@dataclass(frozen=True)
class ApiSnapshot:
    """What one deployment of a REST API serves."""

    api_id: str
    resources: dict[str, Any]  # resource id -> moto Resource (deep copy)
    paths: dict[str, str]  # resource id -> full path, e.g. "/items/{id}"
    models: dict[str, Any]  # model name -> moto Model
    request_validators: dict[str, Any]  # validator id -> moto RequestValidator
    gateway_responses: dict[str, Any]  # response type -> moto GatewayResponse
    authorizers: dict[str, Any] = field(default_factory=dict)
    binary_media_types: tuple[str, ...] = ()


def _resource_paths(resources: dict[str, Any]) -> dict[str, str]:
    """Full paths computed inside the copied resources, never through the live backend."""
    paths: dict[str, str] = {}

    def path_of(resource_id: str, seen: tuple[str, ...] = ()) -> str:
        if resource_id in paths:
            return paths[resource_id]
        resource = resources[resource_id]
        parent_id = resource.parent_id
        if not parent_id or parent_id not in resources or parent_id in seen:
            path = "/" if resource.path_part in ("/", "") else "/" + resource.path_part
        else:
            parent = path_of(parent_id, (*seen, resource_id))
            path = parent.rstrip("/") + "/" + resource.path_part
        paths[resource_id] = path
        return path

    for resource_id in resources:
        path_of(resource_id)
    return paths


def take_snapshot(api: Any) -> ApiSnapshot:
    """Deep-copy what a deployment freezes. Call under ``runtime.LOCK``."""
    resources = copy.deepcopy(dict(api.resources))
    return ApiSnapshot(
        api_id=api.id,
        resources=resources,
        paths=_resource_paths(resources),
        models=copy.deepcopy(dict(api.models)),
        request_validators=copy.deepcopy(dict(api.request_validators)),
        gateway_responses=copy.deepcopy(dict(api.gateway_responses)),
        authorizers=copy.deepcopy(dict(getattr(api, "authorizers", {}))),
        binary_media_types=tuple(getattr(api, "binaryMediaTypes", None) or ()),
    )


def snapshot_of(api: Any, deployment_id: str | None) -> ApiSnapshot | None:
    """The snapshot a stage pointing at ``deployment_id`` serves. Call under ``runtime.LOCK``.

    A deployment made before ``install()`` ran has none; it gets one taken now, from the API
    as it is (the closest this process can know), and a log line says so.
    """
    deployment = api.deployments.get(deployment_id) if deployment_id else None
    if deployment is None:
        return None
    snapshot = getattr(deployment, SNAPSHOT_ATTRIBUTE, None)
    if snapshot is None:
        log.warning(
            "deployment %s of API %s has no snapshot (created before the local cloud's "
            "patches); serving the API as it is now", deployment_id, api.id)
        snapshot = take_snapshot(api)
        setattr(deployment, SNAPSHOT_ATTRIBUTE, snapshot)
    return snapshot


def install() -> None:
    """Make every new deployment carry its API snapshot. Idempotent."""
    global _installed
    if _installed:
        return
    _installed = True
    original = apigw_models.RestAPI.create_deployment

    def create_deployment(self: Any, *args: Any, **kwargs: Any) -> Any:
        deployment = original(self, *args, **kwargs)
        setattr(deployment, SNAPSHOT_ATTRIBUTE, take_snapshot(self))
        return deployment

    create_deployment.__wrapped__ = original  # type: ignore[attr-defined]
    apigw_models.RestAPI.create_deployment = create_deployment
