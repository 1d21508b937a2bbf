"""CloudFormation on the local cloud: the stack lifecycle AWS runs and the models moto lacks.

``core`` replaces moto's stack lifecycle (unsupported types fail, per-resource events,
rollback, complete deletes), ``actions`` the API actions around it, ``drift`` drift detection,
``intrinsics`` what moto resolves differently, ``tags`` the stack and system tags CloudFormation
gives resources; the service modules define models moto lacks or gets wrong (``model`` is their
shared base).
``install()`` registers them: moto finds models among the direct subclasses of
``CloudFormationModel`` through three cached lookups, cleared here once the modules have
defined their classes (a later class for the same type wins).
"""

from __future__ import annotations

import importlib

from moto.cloudformation import parsing

SERVICE_MODULES = (
    "localcloud.cfn.apigateway",
    "localcloud.cfn.acm",
    "localcloud.cfn.awslambda",
    "localcloud.cfn.dynamodb",
    "localcloud.cfn.events",
    "localcloud.cfn.logs",
    "localcloud.cfn.route53",
    "localcloud.cfn.s3",
    "localcloud.cfn.sqs",
)

_installed = False


def install() -> None:
    """Patch moto's CloudFormation in this process. Safe to call more than once."""
    global _installed
    if _installed:
        return
    _installed = True
    from ..apigateway import control
    from . import actions, core, drift, intrinsics

    control.install()  # the API Gateway models create through the fixed backend methods
    core.install()
    actions.install()
    drift.install()  # after actions: it wraps ListStackResources and the DTO
    intrinsics.install()
    for name in SERVICE_MODULES:
        module = importlib.import_module(name)
        install_module = getattr(module, "install", None)
        if install_module is not None:
            install_module()
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
