"""``drillkit traffic start|run|stop|status``, ``drillkit dns wait``, ``drillkit reconcile``,
``drillkit report``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import daemon, records, timeutil
from .dns import DnsOptions
from .traffic import TrafficOptions


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _labelled(what: str) -> Any:
    def parse(text: str) -> tuple[str, str]:
        label, sep, value = text.partition("=")
        if not sep or not label or not value:
            raise argparse.ArgumentTypeError(f"{text!r} is not LABEL={what}")
        return label, value

    return parse


_health_check = _labelled("HEALTH_CHECK_ID")
_dns_target = _labelled("NAME")


def _traffic_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--url", required=True, help="where to POST, e.g. https://api.example.com/")
    parser.add_argument("--host-header", help="Host header to send (default: the URL's host)")
    parser.add_argument("--rate", type=_positive, required=True, help="requests per second")
    parser.add_argument("--run-id", required=True, help="put in every Detail as runId")
    parser.add_argument("--source", default="drillkit.traffic", help="the events' Source")
    parser.add_argument("--detail-type", default="DrillTraffic", help="the events' DetailType")
    parser.add_argument("--timeout", type=_positive, default=5.0,
                        help="per-request socket timeout in seconds (default 5)")
    parser.add_argument("--max-seconds", type=_positive,
                        help="stop by itself after this many seconds")
    parser.add_argument("--health-check", type=_health_check, action="append", default=[],
                        metavar="LABEL=ID", help="sample this Route 53 health check (repeat)")
    parser.add_argument("--health-poll-interval", type=_positive, default=5.0,
                        help="seconds between two GetHealthCheckStatus samples of the same "
                             "check; the checks are sampled in turn (default 5)")
    parser.add_argument("--flags-poll-interval", type=_positive, default=30.0,
                        help="seconds between two GetHealthCheck reads (Inverted, Disabled) "
                             "of the same check (default 30)")
    parser.add_argument("--endpoint-url", help="AWS endpoint (the local cloud's URL)")
    parser.add_argument("--region", help="region of the Route 53 client (default chain)")
    parser.add_argument("--dns-name", help="ask the name servers for this name's A records "
                                           "(the custom domain)")
    parser.add_argument("--dns-server", action="append", default=[], metavar="HOST[:PORT]",
                        help="an authoritative name server of the zone (repeat)")
    parser.add_argument("--dns-target", type=_dns_target, action="append", default=[],
                        metavar="LABEL=NAME",
                        help="a failover record's alias target; answers with its addresses "
                             "are labelled LABEL (repeat)")
    parser.add_argument("--dns-resolver", metavar="HOST[:PORT]",
                        help="DNS server that resolves the targets (default: the system's)")
    parser.add_argument("--dns-poll-interval", type=_positive, default=2.0,
                        help="seconds between two rounds of DNS queries (default 2)")


def _dns_options(args: argparse.Namespace) -> DnsOptions | None:
    if not args.dns_name:
        return None
    return DnsOptions(name=args.dns_name, servers=tuple(args.dns_server),
                      targets=dict(args.dns_target), resolver=args.dns_resolver,
                      poll_interval=args.dns_poll_interval)


def _options(args: argparse.Namespace) -> TrafficOptions:
    return TrafficOptions(
        run_dir=args.run_dir.resolve(), url=args.url, rate=args.rate, run_id=args.run_id,
        host_header=args.host_header, source=args.source, detail_type=args.detail_type,
        timeout=args.timeout, max_seconds=args.max_seconds,
        health_checks=dict(args.health_check),
        health_poll_interval=args.health_poll_interval,
        flags_poll_interval=args.flags_poll_interval, endpoint_url=args.endpoint_url,
        region=args.region, dns=_dns_options(args),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drillkit", description="Traffic, reconciliation and report of a failover drill.")
    commands = parser.add_subparsers(dest="command", required=True)

    traffic = commands.add_parser("traffic", help="steady traffic through the public URL")
    actions = traffic.add_subparsers(dest="action", required=True)
    _traffic_arguments(actions.add_parser(
        "start", help="start a background sender; returns once its first request is sent"))
    _traffic_arguments(actions.add_parser(
        "run", help="the sender in the foreground (what start runs in the background)"))
    for name, text in (("stop", "stop the sender and print the summary"),
                       ("status", "the summary so far and whether the sender runs")):
        actions.add_parser(name, help=text).add_argument("--run-dir", type=Path, required=True)

    dns = commands.add_parser("dns", help="the custom domain's DNS answers, as sampled")
    dns_actions = dns.add_subparsers(dest="action", required=True)
    wait = dns_actions.add_parser(
        "wait", help="wait until a name server answers with a target; print that sample")
    wait.add_argument("--run-dir", type=Path, required=True)
    wait.add_argument("--label", required=True, help="the target's label, e.g. SECONDARY")
    wait.add_argument("--since", required=True,
                      help="only samples taken at or after this time (ISO-8601)")
    wait.add_argument("--timeout", type=float, default=300.0,
                      help="seconds to wait at most (default 300)")

    reconcile = commands.add_parser(
        "reconcile", help="check every accepted event is stored in every region")
    reconcile.add_argument("--run-dir", type=Path, required=True)
    reconcile.add_argument("--table", required=True)
    reconcile.add_argument("--region", action="append", required=True,
                           help="a region whose replica must hold every event (repeat)")
    reconcile.add_argument("--endpoint-url", help="AWS endpoint (the local cloud's URL)")
    reconcile.add_argument("--timeout", type=_positive, default=60.0,
                           help="seconds to wait for replication (default 60)")
    reconcile.add_argument("--run-id", help="default: the run id of the traffic log")

    report = commands.add_parser("report", help="figures, verdict, Markdown and SVG")
    report.add_argument("--run-dir", type=Path, required=True)
    report.add_argument("--timeline", type=Path, required=True,
                        help="the playbook's timeline JSON")
    report.add_argument("--out-dir", type=Path, required=True)
    return parser


def _reconcile(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from . import aws
    from .reconcile import ReconcileError, reconcile

    session = aws.session()

    def client_for(region: str) -> Any:
        return session.client("dynamodb", region_name=region, endpoint_url=args.endpoint_url)

    try:
        result = reconcile(args.run_dir, args.table, args.region, client_for,
                           timeout=args.timeout, run_id=args.run_id)
    except (ReconcileError, BotoCoreError, ClientError) as exc:
        print(f"cannot reconcile {args.run_dir} with table {args.table}: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(result, indent=2)
    (args.run_dir / records.RECONCILE_FILE).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


def _report(args: argparse.Namespace) -> int:
    from . import report

    try:
        timeline = report.load_json(args.timeline)
    except (OSError, ValueError) as exc:
        print(f"cannot read the timeline {args.timeline}: {exc}", file=sys.stderr)
        return 1
    reconcile_path = args.run_dir / records.RECONCILE_FILE
    reconciliation = report.load_json(reconcile_path) if reconcile_path.exists() else None
    log = records.read_log(args.run_dir)
    generated_at = timeutil.now()
    document = report.build_report(log, reconciliation, timeline, generated_at)
    paths = report.write_report(document, log, args.out_dir, generated_at)
    print("\n".join(report.summary_lines(document, paths)))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "traffic":
        if args.action in ("start", "run"):
            options = _options(args)
            if args.action == "start":
                return daemon.start(options)
            from .traffic import run

            return run(options)
        return {"stop": daemon.stop, "status": daemon.status}[args.action](args.run_dir)
    if args.command == "dns":
        from .dns import wait_command

        return wait_command(args.run_dir, args.label, args.since, args.timeout)
    if args.command == "reconcile":
        return _reconcile(args)
    return _report(args)
