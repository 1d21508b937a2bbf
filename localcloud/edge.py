"""The edge: a request whose Host is a Route 53 record name or an API Gateway custom domain.

On AWS a client resolves the name through Route 53 and sends the request, Host unchanged, to
whatever the answer points at. Here the edge resolves the name with the same resolver as the
DNS server (``dns.py``), so health checks, failover and weights decide which region answers,
and hands the request to that region's custom domain on the API Gateway data plane.

- An answer that leads to an API Gateway custom domain (an alias or CNAME to its regional
  domain name): that region's custom domain serves the request, with the original Host.
- A custom domain no record resolves: served when it exists in exactly one region, like a
  client with a hosts-file entry for it; in several regions nothing says which, so 502.
- An answer that leads to a REST API's execute-api host: 403 ``Forbidden``, as API Gateway
  answers a request whose Host is not one of its names.
- Anything else (an address outside the local cloud, NXDOMAIN): 502 with a JSON message
  saying what the name resolved to.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from typing import Any

from . import runtime
from .dns import Answer, LocalTarget, Resolver, normalize

log = logging.getLogger("localcloud.edge")


def _json_response(start_response: Any, status: str, body: dict[str, Any],
                   headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(status, [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(payload))),
        *(headers or []),
    ])
    return [payload]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class Edge:
    """Routes requests for Route 53 names to the region their answer points at."""

    def __init__(self, rt: runtime.Runtime, gateway: Any,
                 resolver: Resolver | None = None) -> None:
        self.runtime = rt
        self.gateway = gateway
        self.resolver = resolver or Resolver()

    def serves(self, host: str) -> bool:
        """Whether ``host`` is a record name in a hosted zone or a custom domain (looked up
        in moto's backends on every call: records and domains change at any time)."""
        host = normalize(host)
        if not host or _is_ip(host) or "." not in host:
            return False
        return self.resolver.local_name(host)

    def route(self, host: str) -> tuple[LocalTarget | None, Answer]:
        """Where a client resolving ``host`` through Route 53 would send its request."""
        host = normalize(host)
        answer = self.resolver.resolve(host, "A")
        target = answer.target
        if target is None and not any(rr.rtype == "A" for rr in answer.records):
            regions = self.resolver.custom_domain_regions(host)
            if len(regions) == 1:
                target = LocalTarget("custom_domain", regions[0], host)
                answer.steps.append(f"no record; the custom domain exists only in {regions[0]}")
            elif regions:
                answer.steps.append(
                    f"no record, and the custom domain exists in {', '.join(sorted(regions))}")
        return target, answer

    def handle(self, environ: dict[str, Any], start_response: Any, host: str) -> Any:
        target, answer = self.route(host)
        if target is not None and target.kind == "custom_domain":
            log.debug("%s -> %s (%s)", host, target.describe(), answer.describe())
            return self.gateway.handle_custom_domain(environ, start_response, target.name,
                                                     target.region)
        if target is not None:
            return _json_response(start_response, "403 Forbidden", {"message": "Forbidden"},
                                  [("x-amzn-ErrorType", "ForbiddenException")])
        return _json_response(start_response, "502 Bad Gateway", {
            "message": f"{normalize(host)} does not resolve to anything the local cloud "
                       f"serves: {answer.describe()}",
            "resolved": {
                "name": answer.name,
                "type": answer.rtype,
                "responseCode": answer.rcode,
                "records": [f"{rr.name} {rr.ttl} {rr.rtype} {rr.value}" for rr in answer.records],
                "steps": answer.steps,
            },
        })
