"""The single HTTP endpoint: moto's control plane plus the data plane AWS manages.

Requests are routed by what they are, never by this project's names:

- ``/_localcloud/*``: the local cloud's own status and reset.
- SigV4-signed requests (boto3, the ``aws`` CLI, Ansible modules): moto, as in ``moto_server``.
- ``Host: {restApiId}.execute-api.{region}.amazonaws.com``: the API Gateway data plane.
- ``Host:`` a record name in a hosted zone or an API Gateway custom domain: the edge, which
  resolves the name through Route 53 and calls the custom domain of the region it answered.
- anything else: moto (unsigned moto requests fall to S3 there, as in ``moto_server``).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import signal
import threading
import time
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from . import runtime
from .config import Config

log = logging.getLogger("localcloud")

EXECUTE_API_HOST = re.compile(
    r"^(?P<api_id>[a-z0-9]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$"
)

# Modules that extend moto in-process; each has ``install()``. Order matters only in that
# CloudFormation models are registered last, after the backends they use are patched.
PATCH_MODULES = (
    "localcloud.acm",
    "localcloud.events",
    "localcloud.s3",
    "localcloud.json_protocol",
    "localcloud.validation",
    "localcloud.apigateway.control",
    "localcloud.apigateway.snapshots",
    "localcloud.lambda_runtime",
    "localcloud.replication",
    "localcloud.route53",
)
# Installed after the endpoint is up: importing moto's CloudFormation parser imports every
# service moto has (1-3 s). A CloudFormation request that arrives earlier waits for it.
DEFERRED_PATCH_MODULES = (
    "localcloud.cfn", "localcloud.cfn_validate", "localcloud.cfn_request_token")
DEFERRED_WAIT_SECONDS = 120.0

# Background components: (module, factory). Each factory takes the Runtime.
COMPONENTS = (
    ("localcloud.lambda_runtime", "LambdaRuntime"),
    ("localcloud.replication", "Replicator"),
    ("localcloud.healthchecks", "HealthChecker"),
    ("localcloud.dns", "DnsServer"),
    ("localcloud.route53_throttle", "RequestThrottle"),
)


def install_patches(modules: tuple[str, ...] = PATCH_MODULES + DEFERRED_PATCH_MODULES) -> None:
    """Extend moto in this process. Safe to call more than once."""
    for name in modules:
        importlib.import_module(name).install()


def host_of(environ: dict[str, Any]) -> str:
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or ""
    host = host.strip().lower().rstrip(".")
    if host.startswith("["):  # IPv6 literal
        return host
    return host.rsplit(":", 1)[0] if ":" in host else host


def is_signed_aws_request(environ: dict[str, Any]) -> bool:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if auth.startswith("AWS4-HMAC-SHA256") or auth.startswith("AWS "):
        # A SigV4 request for execute-api (IAM-authorised API) still belongs to the gateway.
        return "/execute-api/" not in auth
    query = environ.get("QUERY_STRING", "")
    return "X-Amz-Credential=" in query or "AWSAccessKeyId=" in query


class LocalCloud:
    """The WSGI application and the components of one local cloud."""

    def __init__(self, config: Config, defer: bool = False) -> None:
        """``defer``: install DEFERRED_PATCH_MODULES later, with ``install_deferred()``."""
        self.config = config
        self.runtime = runtime.Runtime(config)
        runtime.set_current(self.runtime)
        self.deferred_ready = threading.Event()
        if defer:
            install_patches(PATCH_MODULES)
        else:
            install_patches()
            self.deferred_ready.set()
        self.moto = DomainDispatcherApplication(create_backend_app)
        for module_name, factory in COMPONENTS:
            module = importlib.import_module(module_name)
            self.runtime.add(getattr(module, factory)(self.runtime))
        from .apigateway.gateway import Gateway
        from .edge import Edge

        self.gateway = Gateway(self.runtime, self.moto)
        self.edge = Edge(self.runtime, self.gateway)

    def install_deferred(self) -> None:
        try:
            install_patches(DEFERRED_PATCH_MODULES)
        except Exception:
            log.exception("installing %s failed", DEFERRED_PATCH_MODULES)
            raise
        finally:
            self.deferred_ready.set()

    # -- WSGI -----------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_localcloud/"):
            return self._control(environ, start_response)
        if not is_signed_aws_request(environ) and not path.startswith("/moto-api"):
            host = host_of(environ)
            match = EXECUTE_API_HOST.match(host)
            if match:
                return self.gateway.handle_execute_api(
                    environ, start_response, match["api_id"], match["region"]
                )
            if self.edge.serves(host):
                return self.edge.handle(environ, start_response, host)
        if not self.deferred_ready.is_set() and "/cloudformation/" in environ.get(
                "HTTP_AUTHORIZATION", ""):
            self.deferred_ready.wait(DEFERRED_WAIT_SECONDS)
        with runtime.LOCK:
            result = self.moto(environ, start_response)
            if path.startswith("/moto-api/reset") and environ.get("REQUEST_METHOD") == "POST":
                self.runtime.reset()
            return result

    def _control(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path == "/_localcloud/status":
            body = self.status()
            response = Response(
                json.dumps(body, indent=2, default=str), mimetype="application/json"
            )
        elif request.path == "/_localcloud/reset" and request.method == "POST":
            self.reset()
            response = Response(json.dumps({"reset": True}), mimetype="application/json")
        else:
            response = Response(
                json.dumps({"message": f"unknown local cloud path {request.path}"}),
                status=404,
                mimetype="application/json",
            )
        return response(environ, start_response)

    # -- Operations -------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "url": self.config.url,
            "pid": os.getpid(),
            "uptime_seconds": round(time.time() - self.runtime.started_at, 3),
            "time_scale": self.config.time_scale,
            "replication_lag_seconds": self.config.replication_lag_seconds,
            "cloudformation_ready": self.deferred_ready.is_set(),
        }
        for name, component in self.runtime.components.items():
            status[name] = component.status()
        return status

    def reset(self) -> None:
        from moto.moto_api._internal.models import moto_api_backend

        with runtime.LOCK:
            moto_api_backend.reset()
            self.runtime.reset()


def serve(config: Config) -> None:
    """Run the local cloud in the foreground until SIGTERM or SIGINT."""
    logging.basicConfig(
        level=os.environ.get("LOCALCLOUD_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # ACM certificates requested locally are issued at once (no DNS validation here).
    os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "0")
    # The local cloud talks to itself (Lambda workers, probes) through this endpoint.
    os.environ.setdefault("MOTO_PORT", str(config.port))
    app = LocalCloud(config, defer=True)
    server = make_server(
        config.host, config.port, app, threaded=True, request_handler=MotoRequestHandler
    )
    stopping = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    app.runtime.start()
    threading.Thread(target=app.install_deferred, name="deferred-patches", daemon=True).start()
    log.info("local cloud ready on %s (time scale %s)", config.url, config.time_scale)
    try:
        server.serve_forever()
    finally:
        app.runtime.stop()
        server.server_close()
        log.info("local cloud stopped")
