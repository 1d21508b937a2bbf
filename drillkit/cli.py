"""``drillkit timeline start|step|mark|fail|end``, ``drillkit budget``,
``drillkit traffic start|run|stop|status``, ``drillkit dns wait``, ``drillkit reconcile``,
``drillkit report``.

Every command that works in a run directory takes ``--run-dir``, by default ``$DRILLKIT_RUN_DIR``
(the role sets it once for the whole drill)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from . import daemon, records, timeline, timeutil
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


def _run_dir(parser: argparse.ArgumentParser) -> None:
    default = os.environ.get("DRILLKIT_RUN_DIR") or None
    parser.add_argument("--run-dir", type=Path, default=default, required=default is None,
                        help="the run's directory (default: $DRILLKIT_RUN_DIR)")


def _traffic_arguments(parser: argparse.ArgumentParser) -> None:
    _run_dir(parser)
    parser.add_argument("--url", required=True, help="where to POST, e.g. https://api.example.com/")
    parser.add_argument("--host-header", help="Host header to send (default: the URL's host)")
    parser.add_argument("--rate", type=_positive, required=True, help="requests per second")
    parser.add_argument("--run-id", help="put in every Detail as runId (default: the run "
                                          "directory's name)")
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
    parser.add_argument("--hosted-zone", metavar="ZONE",
                        help="read the --dns-name's failover records in this hosted zone: their "
                             "alias targets label the answers, and without --dns-server the "
                             "zone's name servers are asked")
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
    servers, targets = list(args.dns_server), dict(args.dns_target)
    if args.hosted_zone:
        from . import zone
        from .traffic import route53_client

        found = zone.read(route53_client(args), args.hosted_zone, args.dns_name,
                          want_name_servers=not servers)
        servers, targets = servers or found.name_servers, {**found.targets, **targets}
    return DnsOptions(name=args.dns_name, servers=tuple(servers), targets=targets,
                      resolver=args.dns_resolver, poll_interval=args.dns_poll_interval)


def _options(args: argparse.Namespace) -> TrafficOptions:
    return TrafficOptions(
        run_dir=args.run_dir.resolve(), url=args.url, rate=args.rate,
        run_id=args.run_id or args.run_dir.resolve().name,
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
        _run_dir(actions.add_parser(name, help=text))

    _timeline_parsers(commands)
    budget = commands.add_parser(
        "budget", help="detection timeout and Route 53 cadences of a drill (JSON)")
    budget.add_argument("--request-interval", type=_positive, required=True)
    budget.add_argument("--failure-threshold", type=_positive, required=True)
    budget.add_argument("--time-scale", type=_positive, default=1.0)
    budget.add_argument("--detect-factor", type=_positive, default=2.0)
    budget.add_argument("--detect-margin", type=float, default=30.0)

    dns = commands.add_parser("dns", help="the custom domain's DNS answers, as sampled")
    dns_actions = dns.add_subparsers(dest="action", required=True)
    wait = dns_actions.add_parser(
        "wait", help="wait until a name server answers with a target; print that sample")
    _run_dir(wait)
    wait.add_argument("--label", required=True, help="the target's label, e.g. SECONDARY")
    wait.add_argument("--since", required=True,
                      help="only samples taken at or after this time (ISO-8601), or this mark "
                           "of the run's timeline (e.g. fault_injected_at)")
    wait.add_argument("--timeout", type=float, default=300.0,
                      help="seconds to wait at most (default 300)")

    reconcile = commands.add_parser(
        "reconcile", help="check every accepted event is stored in every region")
    _run_dir(reconcile)
    reconcile.add_argument("--table", required=True)
    reconcile.add_argument("--region", action="append", required=True,
                           help="a region whose replica must hold every event (repeat)")
    reconcile.add_argument("--endpoint-url", help="AWS endpoint (the local cloud's URL)")
    reconcile.add_argument("--timeout", type=_positive, default=60.0,
                           help="seconds to wait for replication (default 60)")
    reconcile.add_argument("--run-id", help="default: the run id of the traffic log")

    report = commands.add_parser("report", help="figures, verdict, Markdown and SVG")
    _run_dir(report)
    report.add_argument("--timeline", type=Path,
                        help="the drill's timeline JSON (default: timeline.json of the run)")
    report.add_argument("--out-dir", type=Path, required=True)
    return parser


def _timeline_parsers(commands: Any) -> None:
    parser = commands.add_parser(
        "timeline", help="record the drill's steps, marks and checks (timeline.json)")
    actions = parser.add_subparsers(dest="action", required=True)
    start = actions.add_parser("start", help="name a new run, create its directory and timeline; "
                                             "print its run_id and run_dir (JSON)")
    start.add_argument("--runs-dir", type=Path, required=True)
    for option in ("--mode", "--deployment-name", "--primary-region", "--secondary-region",
                   "--custom-domain"):
        start.add_argument(option, required=True)
    start.add_argument("--request-interval", type=int, required=True)
    start.add_argument("--failure-threshold", type=int, required=True)
    start.add_argument("--time-scale", type=_positive, default=1.0)
    start.add_argument("--health-check", type=_health_check, action="append", default=[],
                       metavar="LABEL=ID", help="PRIMARY=ID and SECONDARY=ID")
    step = actions.add_parser("step", help="a step starts (the one still open ended well)")
    step.add_argument("name")
    step.add_argument("--mark", choices=timeline.MARKS, help="also set this mark, now")
    mark = actions.add_parser("mark", help="set a mark: now, or --at")
    mark.add_argument("name", choices=timeline.MARKS)
    mark.add_argument("--at", help="ISO-8601 time (default: now)")
    actions.add_parser("fail", help="the open step failed: the failed task's result (JSON) on "
                                    "stdin")
    actions.add_parser("end", help="the open step ended well")
    for action in actions.choices.values():
        if action is not start and "--run-dir" not in action._option_string_actions:
            _run_dir(action)


def _timeline(args: argparse.Namespace) -> int:
    now = timeutil.now()
    if args.action == "start":
        runs_dir = args.runs_dir.resolve()
        run_id = timeline.run_id_for(runs_dir, now)
        run_dir = runs_dir / run_id
        run_dir.mkdir(parents=True)
        checks = dict(args.health_check)
        timeline.save(run_dir, timeline.new(
            run_id, args.mode, args.deployment_name, args.primary_region, args.secondary_region,
            args.custom_domain, {
                "request_interval": args.request_interval,
                "failure_threshold": args.failure_threshold, "time_scale": args.time_scale,
                "primary_health_check_id": checks.get("PRIMARY"),
                "secondary_health_check_id": checks.get("SECONDARY")}))
        print(json.dumps({"run_id": run_id, "run_dir": str(run_dir)}))
        return 0
    doc = timeline.load(args.run_dir)
    changed: Any = None
    if args.action == "step":
        changed = timeline.start_step(doc, args.name, now)
        if args.mark:
            timeline.mark(doc, args.mark, now)
    elif args.action == "mark":
        at = timeutil.parse(args.at) or now
        timeline.mark(doc, args.name, at)
        changed = {args.name: doc[args.name]}
    elif args.action == "fail":
        text = sys.stdin.read()
        result = json.loads(text) if text.strip() else {}
        changed = timeline.fail(doc, result if isinstance(result, dict) else {}, now)
    else:
        changed = timeline.end(doc, now)
    timeline.save(args.run_dir, doc)
    print(json.dumps(changed))
    return 0


def _budget(args: argparse.Namespace) -> int:
    from .budget import budget

    print(json.dumps(budget(args.request_interval, args.failure_threshold, args.time_scale,
                            args.detect_factor, args.detect_margin)))
    return 0


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

    timeline_path = args.timeline or args.run_dir / timeline.TIMELINE_FILE
    try:
        recorded = report.load_json(timeline_path)
    except (OSError, ValueError) as exc:
        print(f"cannot read the timeline {timeline_path}: {exc}", file=sys.stderr)
        return 1
    reconcile_path = args.run_dir / records.RECONCILE_FILE
    reconciliation = report.load_json(reconcile_path) if reconcile_path.exists() else None
    log = records.read_log(args.run_dir)
    generated_at = timeutil.now()
    document = report.build_report(log, reconciliation, recorded, generated_at)
    paths = report.write_report(document, log, args.out_dir, generated_at)
    print("\n".join(report.summary_lines(document, paths)))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "traffic":
        if args.action in ("start", "run"):
            from botocore.exceptions import BotoCoreError, ClientError

            from .zone import ZoneError

            try:
                options = _options(args)
            except (ZoneError, BotoCoreError, ClientError) as exc:
                print(f"cannot start traffic: {exc}", file=sys.stderr)
                return 1
            if args.action == "start":
                return daemon.start(options)
            from .traffic import run

            return run(options)
        return {"stop": daemon.stop, "status": daemon.status}[args.action](args.run_dir)
    if args.command == "timeline":
        return _timeline(args)
    if args.command == "budget":
        return _budget(args)
    if args.command == "dns":
        from .dns import wait_command

        since = args.since
        if since in timeline.MARKS:
            since = timeline.load(args.run_dir).get(since) or ""
        return wait_command(args.run_dir, args.label, since, args.timeout)
    if args.command == "reconcile":
        return _reconcile(args)
    return _report(args)
