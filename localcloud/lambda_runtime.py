"""Lambda without Docker: functions run in local worker processes, and SQS mappings poll.

moto stores functions and event source mappings but cannot run code without Docker, and it
fires an SQS mapping inside SendMessage while leaving the message queued. This module makes the
data plane behave as Lambda's:

- ``Invoke`` (RequestResponse, Event, DryRun; ``LogType=Tail``) runs the deployed zip
  (``fn.code_bytes``) in a warm worker process per function version and code
  (``localcloud.lambda_worker``), with the function's handler, environment, timeout and memory
  size, and SDK calls from the function reach this local cloud in the function's region.
  Invocations moto starts by itself (S3/SNS/DynamoDB-stream/Kinesis/Logs notifications) run as
  ``Event`` invocations, as they are asynchronous on AWS.
- Each invocation's log (``START``/``END``/``REPORT`` around the function's output) goes to
  CloudWatch Logs: group ``/aws/lambda/{name}`` or the function's ``LoggingConfig.LogGroup``,
  one stream per execution environment (``YYYY/MM/DD/[$LATEST]<hex>``).
- Every enabled SQS event source mapping in every account and region is polled: batches of up
  to ``BatchSize`` (filled for up to ``MaximumBatchingWindowInSeconds``), the event as AWS builds
  it, and deletion of what succeeded (all, or all but ``batchItemFailures`` with
  ``ReportBatchItemFailures``). Failed messages reappear after the queue's visibility timeout,
  so moto's redrive moves them to the dead-letter queue after ``maxReceiveCount``.
  CreateEventSourceMapping refuses a queue whose visibility timeout is shorter than the
  function's timeout, as AWS does.
- ``LoggingConfig`` (which moto drops) is stored, returned and used.

Known deviations from AWS: Python runtimes (``python3.x``) all run with this machine's Python
(the venv's interpreter), with boto3 as installed here; other runtimes and container images are
refused with ``InvalidRuntimeException``. Memory size is reported, not enforced. Functions use
dummy credentials, so their SDK calls land in the local cloud's default account. ``Event``
invocations are not retried and have no destinations; the ``Invoke`` response's request id is
moto's, not the invocation's; ``invoked_function_arn`` is the version's ARN even when an alias
was invoked; logs are always in the text format. A local cap of ``MAX_WORKERS_PER_FUNCTION``
concurrent executions per function version replaces the account's concurrency limit (beyond
it, invocations wait); a reserved concurrency of 0 throttles, as on AWS.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import logging
import math
import os
import shutil
import signal
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import runtime
from .lambda_worker import LogLine, RunResult, WorkerProcess

log = logging.getLogger("localcloud.lambda")

# At most this many execution environments (worker processes, ~45 MB each) per function
# version run at once (LOCALCLOUD_LAMBDA_CONCURRENCY; Lambda's own limit is far higher, but a
# laptop's memory is not).
MAX_WORKERS_PER_FUNCTION = max(1, int(os.environ.get("LOCALCLOUD_LAMBDA_CONCURRENCY", "2")))
# Batches one SQS mapping has in flight at once, unless its ScalingConfig says fewer.
DEFAULT_SQS_CONCURRENCY = MAX_WORKERS_PER_FUNCTION
# An environment unused for this long is shut down, as Lambda reclaims idle environments.
WORKER_IDLE_SECONDS = 300.0
# How often mappings and functions are re-read when nothing wakes the supervisor earlier.
SUPERVISE_SECONDS = 1.0
# Longest a poller sleeps when nothing tells it about its queue (arrivals, deletions and
# visibility changes do, and it wakes when an in-flight message becomes visible again).
IDLE_RECHECK_SECONDS = 5.0
# LogType=Tail returns the last 4 KB of the invocation's log.
LOG_TAIL_BYTES = 4096
ASYNC_INVOKE_THREADS = 4

_installed = False
# How the current thread reached LambdaFunction.invoke: "api" (Invoke), "event" (InvokeAsync);
# unset when moto invokes on its own (a notification from another service).
_caller = threading.local()


# -- errors the Invoke API returns --------------------------------------------------------------


def _lambda_error(error_type: str, message: str, status: int = 400) -> Exception:
    from moto.awslambda.exceptions import LambdaClientError

    error = LambdaClientError(error_type, message)
    error.code = status
    return error


def _invalid_runtime(spec: FunctionSpec) -> Exception:
    what = f"runtime {spec.runtime}" if spec.runtime else f"package type {spec.package_type}"
    return _lambda_error(
        "InvalidRuntimeException",
        f"The runtime or runtime version specified is not supported. The local cloud runs "
        f"zip-packaged Python functions only; {spec.name} uses {what}.",
        502,
    )


def _throttled() -> Exception:
    return _lambda_error("TooManyRequestsException", "Rate Exceeded.", 429)


# -- what an invocation needs to know about a function ------------------------------------------


@dataclass(frozen=True)
class FunctionSpec:
    """A snapshot of one function version, taken under ``runtime.LOCK``; ``key`` names its
    execution environments (a change of code or configuration means new environments)."""

    account_id: str
    region: str
    name: str
    version: str
    arn: str
    handler: str
    runtime: str
    package_type: str
    timeout: float
    memory_size: int
    environment: tuple[tuple[str, str], ...]
    log_group: str
    code_sha256: str
    reserved_concurrency: int | None = None
    code: bytes = field(default=b"", compare=False, repr=False)

    @classmethod
    def of(cls, fn: Any) -> FunctionSpec:
        code = getattr(fn, "code_bytes", b"") or b""
        digest = getattr(fn, "code_sha_256", "") or ""
        try:
            code_id = base64.b64decode(digest).hex() if digest else ""
        except ValueError:
            code_id = ""
        if not code_id:
            import hashlib

            code_id = hashlib.sha256(code).hexdigest()
        reserved = fn.reserved_concurrency
        return cls(
            account_id=fn.account_id,
            region=fn.region,
            name=fn.function_name,
            version=str(fn.version),
            arn=fn.function_arn,
            handler=fn.handler or "",
            runtime=fn.run_time or "",
            package_type=fn.package_type or "Zip",
            timeout=float(fn.timeout or 3),
            memory_size=int(fn.memory_size or 128),
            environment=tuple(sorted((str(k), str(v))
                                     for k, v in (fn.environment_vars or {}).items())),
            log_group=_log_group_of(fn),
            code_sha256=code_id,
            reserved_concurrency=None if reserved in (None, "") else int(reserved),
            code=code,
        )

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.account_id, self.region, self.arn, self.version, self.handler, self.runtime,
                self.timeout, self.memory_size, self.environment, self.log_group,
                self.code_sha256)

    @property
    def runnable(self) -> bool:
        return self.package_type == "Zip" and self.runtime.startswith("python")

    @property
    def concurrency_limit(self) -> int:
        if self.reserved_concurrency is None:
            return MAX_WORKERS_PER_FUNCTION
        return min(self.reserved_concurrency, MAX_WORKERS_PER_FUNCTION)


def _log_group_of(fn: Any) -> str:
    config = getattr(fn, "logging_config", None) or {}
    return config.get("LogGroup") or f"/aws/lambda/{fn.function_name}"


def worker_environment(spec: FunctionSpec, task_root: str, log_stream: str,
                       endpoint_url: str) -> dict[str, str]:
    """The variables Lambda sets for a Python function, plus the local cloud's endpoint.

    The function's own variables are applied last and win.
    """
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": task_root,
        "LAMBDA_RUNTIME_DIR": str(Path(__file__).resolve().parent),
        "_HANDLER": spec.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        "AWS_ACCESS_KEY_ID": "ASIALOCALCLOUDLAMBDA",
        "AWS_SECRET_ACCESS_KEY": "localcloud-lambda-secret-access-key",
        "AWS_SESSION_TOKEN": "localcloud-lambda-session-token",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_ENDPOINT_URL": endpoint_url,
    }
    env.update(dict(spec.environment))
    return env


@contextmanager
def _lock_released() -> Iterator[None]:
    """Let go of ``runtime.LOCK`` (every level this thread holds) while a function runs.

    The HTTP front holds the lock for a whole moto request, Invoke included; a function that
    calls back into the local cloud would otherwise wait for itself.
    """
    depth = 0
    while True:
        try:
            runtime.LOCK.release()
        except RuntimeError:  # not (or no longer) held by this thread
            break
        depth += 1
    try:
        yield
    finally:
        for _ in range(depth):
            runtime.LOCK.acquire()


# -- execution environments ---------------------------------------------------------------------


class Environment:
    """One warm execution environment: a worker process and its log stream."""

    def __init__(self, spec: FunctionSpec, worker: WorkerProcess, log_stream: str,
                 generation: int) -> None:
        self.spec = spec
        self.worker = worker
        self.log_stream = log_stream
        self.generation = generation
        self.busy = True
        self.last_used = time.monotonic()


class WorkerPool:
    """Environments per function version and code, each used by one invocation at a time."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._idle: dict[tuple[Any, ...], list[Environment]] = {}
        self._busy: dict[tuple[Any, ...], int] = {}
        self._all: set[Environment] = set()
        self.generation = 0

    def acquire(self, spec: FunctionSpec,
                spawn: Callable[[int], Environment]) -> Environment:
        """A warm environment for spec, or a new one; waits while the function is at its cap."""
        dead: list[Environment] = []
        with self._cond:
            while True:
                idle = self._idle.get(spec.key, [])
                while idle:
                    env = idle.pop()
                    if env.worker.alive():
                        env.busy = True
                        self._busy[spec.key] = self._busy.get(spec.key, 0) + 1
                        break
                    self._all.discard(env)
                    dead.append(env)
                else:
                    env = None
                if env is not None:
                    break
                if self._busy.get(spec.key, 0) < spec.concurrency_limit:
                    self._busy[spec.key] = self._busy.get(spec.key, 0) + 1
                    break
                self._cond.wait(1.0)
            generation = self.generation
        for stale in dead:
            stale.worker.close()
        if env is not None:
            return env
        try:
            env = spawn(generation)
        except BaseException:
            with self._cond:
                self._busy[spec.key] -= 1
                self._cond.notify_all()
            raise
        with self._cond:
            self._all.add(env)
            if env.generation != self.generation:  # reset while it started
                env.worker.terminate()
        return env

    def release(self, env: Environment, reusable: bool) -> None:
        with self._cond:
            key = env.spec.key
            self._busy[key] -= 1
            if not self._busy[key]:
                del self._busy[key]
            env.busy = False
            keep = reusable and env.generation == self.generation and env.worker.alive()
            if keep:
                env.last_used = time.monotonic()
                self._idle.setdefault(key, []).append(env)
            else:
                self._all.discard(env)
            self._cond.notify_all()
        if not keep:
            env.worker.close()

    def reap(self, current_keys: set[tuple[Any, ...]], idle_seconds: float) -> None:
        """Shut down idle environments of deleted or changed functions, or unused too long."""
        now = time.monotonic()
        victims: list[Environment] = []
        with self._cond:
            for key, idle in list(self._idle.items()):
                keep = [env for env in idle if key in current_keys and env.worker.alive()
                        and now - env.last_used < idle_seconds]
                victims.extend(env for env in idle if env not in keep)
                if keep:
                    self._idle[key] = keep
                else:
                    del self._idle[key]
            self._all.difference_update(victims)
        for env in victims:
            env.worker.close()

    def close_all(self, background: bool = False) -> None:
        """Shut every environment down: idle ones now, busy ones are killed and closed by the
        invocation that holds them. ``background`` avoids waiting in the caller's thread."""
        with self._cond:
            self.generation += 1
            idle = [env for envs in self._idle.values() for env in envs]
            self._idle.clear()
            self._all.difference_update(idle)
            busy = [env for env in self._all if env.busy]
            self._cond.notify_all()
        for env in busy:
            env.worker.terminate()

        def close() -> None:
            for env in idle:
                env.worker.close()

        if background:
            threading.Thread(target=close, name="lambda-close", daemon=True).start()
        else:
            close()

    def describe(self) -> list[dict[str, Any]]:
        with self._cond:
            envs = list(self._all)
        return [
            {
                "pid": env.worker.pid,
                "function_arn": env.spec.arn,
                "version": env.spec.version,
                "state": "busy" if env.busy else "idle",
                "log_stream": env.log_stream,
            }
            for env in sorted(envs, key=lambda e: (e.spec.arn, e.worker.pid))
        ]


# -- one invocation -----------------------------------------------------------------------------


@dataclass
class Invocation:
    """The outcome of one invocation, as the Invoke API and event sources see it."""

    request_id: str
    payload: bytes
    function_error: str | None  # "Unhandled" when the function failed
    error_type: str | None
    executed_version: str
    log_lines: list[LogLine]

    @property
    def log_text(self) -> str:
        return "".join(line.message for line in self.log_lines)

    def log_tail(self) -> str:
        """The base64 of the last 4 KB of the log, as ``X-Amz-Log-Result``."""
        return base64.b64encode(self.log_text.encode("utf-8")[-LOG_TAIL_BYTES:]).decode()


def _iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "Runtime exited without providing a reason"
    if code < 0:
        try:
            name = signal.Signals(-code).name.removeprefix("SIG").lower()
        except ValueError:
            name = str(-code)
        return f"Runtime exited with error: signal: {name}"
    return f"Runtime exited with error: exit status {code}"


def _outcome(spec: FunctionSpec, request_id: str, run: RunResult) -> tuple[bytes, str | None]:
    """The response payload and error type of a run, shaped as AWS reports them."""
    if run.status == "ok":
        return run.payload, None
    if run.status == "error":
        return run.payload, run.error_type or "Unhandled"
    if run.status == "timeout":
        message = f"Task timed out after {spec.timeout:.2f} seconds"
        error_type = "Sandbox.Timedout"
    else:
        message = _exit_reason(run.exit_code)
        error_type = "Runtime.ExitError"
    body = {"errorType": error_type, "errorMessage": f"RequestId: {request_id} Error: {message}"}
    return json.dumps(body).encode(), error_type


def build_log(spec: FunctionSpec, request_id: str, run: RunResult,
              error_type: str | None) -> list[LogLine]:
    """The invocation's log events in time order: platform lines around the function output.

    Output printed before the request was sent (module import, background threads between
    invocations) comes before ``START``, as on AWS. Messages end in a newline, as Lambda
    writes them to CloudWatch Logs.
    """
    before, during = run.output_before, run.output
    lines: list[LogLine] = []

    def add(timestamp_ms: int, message: str) -> None:
        if lines:
            timestamp_ms = max(timestamp_ms, lines[-1].timestamp_ms)
        lines.append(LogLine(timestamp_ms, message + "\n"))

    if run.init_duration_ms is not None:
        init_start = run.started_ms - int(run.init_duration_ms)
        if before:
            init_start = min(init_start, before[0].timestamp_ms)
        add(init_start, f"INIT_START Runtime Version: {spec.runtime}.local "
                        f"(run by this machine's Python)")
    for line in before:
        add(line.timestamp_ms, line.message)
    if run.init_failed:
        add(run.started_ms, f"INIT_REPORT Init Duration: {run.init_duration_ms or 0:.2f} ms\t"
                            f"Phase: init\tStatus: error\tError Type: {error_type}")
    add(run.started_ms, f"START RequestId: {request_id} Version: {spec.version}")
    for line in during:
        add(line.timestamp_ms, line.message)
    ended = run.started_ms + int(run.duration_ms)
    if run.status == "timeout":
        add(ended, f"{_iso(ended)} {request_id} Task timed out after {spec.timeout:.2f} seconds")
    add(ended, f"END RequestId: {request_id}")
    report = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {run.duration_ms:.2f} ms",
        f"Billed Duration: {max(math.ceil(run.duration_ms), 1)} ms",
        f"Memory Size: {spec.memory_size} MB",
        f"Max Memory Used: {run.max_memory_used_mb or 0} MB",
    ]
    if run.init_duration_ms is not None and not run.init_failed:
        report.append(f"Init Duration: {run.init_duration_ms:.2f} ms")
    if run.status == "timeout":
        report.append("Status: timeout")
    elif run.status == "exit" or run.init_failed:
        report += ["Status: error", f"Error Type: {error_type}"]
    add(ended, "\t".join(report) + "\t")
    return lines


def _log_stream_name(version: str) -> str:
    return f"{datetime.now(UTC):%Y/%m/%d}/[{version}]{uuid.uuid4().hex}"


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0"


# -- SQS event source mappings ------------------------------------------------------------------

_queue_changes = threading.Condition()
_change_counts: dict[str, int] = {}


def _note_change(queue_arn: str) -> None:
    """Wake the pollers of a queue: a message arrived, was deleted or changed visibility.

    Called under runtime.LOCK by moto's SQS models.
    """
    with _queue_changes:
        _change_counts[queue_arn] = _change_counts.get(queue_arn, 0) + 1
        _queue_changes.notify_all()


def _change_count(queue_arn: str) -> int:
    with _queue_changes:
        return _change_counts.get(queue_arn, 0)


def _is_sqs_arn(arn: str) -> bool:
    parts = (arn or "").split(":")
    return len(parts) >= 6 and parts[2] == "sqs"


def _find_queue(queue_arn: str) -> Any:
    """The moto queue of an ARN, or None (under runtime.LOCK)."""
    from moto.sqs.models import sqs_backends

    parts = queue_arn.split(":")
    region, account_id, name = parts[3], parts[4], parts[5]
    if account_id not in sqs_backends or region not in sqs_backends[account_id]:
        return None
    return sqs_backends[account_id][region].queues.get(name)


def _enabled(value: Any) -> bool:
    """A mapping's Enabled flag (CloudFormation parameters may make it a string)."""
    if isinstance(value, str):
        return value.strip().lower() != "false"
    return value is None or bool(value)


@dataclass(frozen=True)
class SqsMapping:
    """An enabled SQS event source mapping, as its poller needs it."""

    uuid: str
    account_id: str
    region: str
    queue_arn: str
    function_arn: str
    batch_size: int
    window_seconds: float
    report_item_failures: bool
    concurrency: int

    @classmethod
    def of(cls, esm: Any) -> SqsMapping | None:
        if not _enabled(esm.enabled) or not _is_sqs_arn(esm.event_source_arn):
            return None
        scaling = esm.scaling_config or {}
        concurrency = int(scaling.get("MaximumConcurrency") or DEFAULT_SQS_CONCURRENCY)
        return cls(
            uuid=esm.uuid,
            account_id=esm.account_id,
            region=esm.region,
            queue_arn=esm.event_source_arn,
            function_arn=esm.function_arn,
            batch_size=int(esm.batch_size or 10),
            window_seconds=float(esm.max_batch_window or 0),
            report_item_failures="ReportBatchItemFailures" in (esm.function_response_types or []),
            concurrency=max(1, min(concurrency, MAX_WORKERS_PER_FUNCTION)),
        )


def sqs_record(message: Any, queue_arn: str, region: str) -> dict[str, Any]:
    """One record of the SQS event, with the fields and formats AWS sends."""
    attributes = {
        "ApproximateReceiveCount": str(message.approximate_receive_count),
        "SentTimestamp": str(message.sent_timestamp),
        "SenderId": message.sender_id,
        "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp),
    }
    if queue_arn.endswith(".fifo"):
        attributes.update({
            "SequenceNumber": str(message.sequence_number),
            "MessageGroupId": message.group_id,
            "MessageDeduplicationId": message.deduplication_id,
        })
    record: dict[str, Any] = {
        "messageId": message.id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": attributes,
        "messageAttributes": {
            name: _event_attribute(value) for name, value in message.message_attributes.items()
        },
    }
    if message.message_attributes:
        record["md5OfMessageAttributes"] = message.attribute_md5
    record.update({
        "md5OfBody": message.body_md5,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    })
    return record


def _event_attribute(value: dict[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        binary = value["BinaryValue"]
        attribute["binaryValue"] = (base64.b64encode(binary).decode()
                                    if isinstance(binary, bytes) else binary)
    attribute.update({"stringListValues": [], "binaryListValues": [],
                      "dataType": value["DataType"]})
    return attribute


def failed_message_ids(payload: bytes, message_ids: set[str]) -> set[str]:
    """The messages to keep after a successful invocation with ReportBatchItemFailures.

    As documented for SQS partial batch responses: an empty or null response or
    ``batchItemFailures`` means complete success; invalid JSON, or an item whose
    ``itemIdentifier`` is missing, empty or not in the batch, fails the whole batch. A response
    that is JSON but not an object is taken as invalid too (AWS does not document that case).
    """
    text = payload.decode("utf-8", errors="replace").strip()
    if not text:
        return set()
    try:
        response = json.loads(text)
    except ValueError:
        return set(message_ids)
    if response is None:
        return set()
    if not isinstance(response, dict):
        return set(message_ids)
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return set(message_ids)
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in message_ids:
            return set(message_ids)
        failed.add(identifier)
    return failed


class SqsPoller:
    """Lambda's poller for one SQS mapping: receive, invoke, delete what succeeded.

    A thread receives batches while fewer than the mapping's concurrency are in flight and
    hands each to a thread of its own, so a slow function delays only its own mapping. Between
    batches it sleeps until its queue changes (a message sent, deleted or made visible) or an
    in-flight message becomes visible again. It ends when its mapping is deleted or disabled.
    """

    def __init__(self, owner: LambdaRuntime, account_id: str, region: str, mapping_id: str,
                 generation: int) -> None:
        self.owner = owner
        self.account_id = account_id
        self.region = region
        self.uuid = mapping_id
        self.generation = generation
        self.stats = {"batches": 0, "messages_deleted": 0, "failed_batches": 0}
        self._stop = threading.Event()
        self._in_flight = 0
        self._slots = threading.Condition()
        self._batches = ThreadPoolExecutor(MAX_WORKERS_PER_FUNCTION,
                                           thread_name_prefix=f"lambda-sqs-{mapping_id[:8]}")
        self._thread = threading.Thread(target=self._run, name=f"lambda-sqs-{mapping_id[:8]}",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with _queue_changes:
            _queue_changes.notify_all()
        with self._slots:
            self._slots.notify_all()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)
        self._batches.shutdown(wait=False, cancel_futures=True)

    def alive(self) -> bool:
        return self._thread.is_alive()

    def _mapping(self) -> SqsMapping | None:
        from moto.awslambda.utils import get_backend

        with runtime.LOCK:
            esm = get_backend(self.account_id, self.region).get_event_source_mapping(self.uuid)
            return SqsMapping.of(esm) if esm is not None else None

    def _running(self) -> bool:
        return not self._stop.is_set() and self.generation == self.owner.generation

    def _run(self) -> None:
        try:
            while self._running():
                mapping = self._mapping()
                if mapping is None:
                    return  # deleted or disabled: the supervisor starts a new poller if needed
                if not self._take_slot(mapping.concurrency):
                    continue
                seen = _change_count(mapping.queue_arn)
                try:
                    records = self._collect(mapping)
                except Exception:
                    log.exception("mapping %s: receiving from %s failed", self.uuid,
                                  mapping.queue_arn)
                    records = []
                if not records:
                    self._release_slot()
                    self._wait_for_messages(mapping, seen, IDLE_RECHECK_SECONDS)
                    continue
                self._batches.submit(self._process, mapping, records)
        finally:
            self._batches.shutdown(wait=False)  # batches in flight still finish

    def _take_slot(self, concurrency: int) -> bool:
        with self._slots:
            if not self._slots.wait_for(
                    lambda: self._in_flight < concurrency or self._stop.is_set(), timeout=0.5):
                return False
            if self._stop.is_set():
                return False
            self._in_flight += 1
            return True

    def _release_slot(self, **counts: int) -> None:
        with self._slots:
            self._in_flight -= 1
            for name, count in counts.items():
                self.stats[name] += count
            self._slots.notify_all()

    def describe(self) -> dict[str, Any]:
        with self._slots:
            return {**self.stats, "in_flight_batches": self._in_flight}

    def _receive(self, mapping: SqsMapping, count: int) -> list[dict[str, Any]]:
        from moto.sqs.models import sqs_backends

        with runtime.LOCK:
            queue = _find_queue(mapping.queue_arn)
            if queue is None:
                return []
            backend = sqs_backends[queue.account_id][queue.region]
            messages = backend.receive_message(queue.name, count, 0,
                                               int(queue.visibility_timeout),
                                               message_attribute_names=["All"])
            return [sqs_record(m, mapping.queue_arn, queue.region) for m in messages]

    def _collect(self, mapping: SqsMapping) -> list[dict[str, Any]]:
        """A batch: what is there now, or up to BatchSize within the batching window."""
        records = self._receive(mapping, mapping.batch_size)
        if not records or mapping.window_seconds <= 0:
            return records
        deadline = time.monotonic() + mapping.window_seconds
        while len(records) < mapping.batch_size and self._running():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            seen = _change_count(mapping.queue_arn)
            more = self._receive(mapping, mapping.batch_size - len(records))
            if more:
                records += more
            else:
                self._wait_for_messages(mapping, seen, remaining)
        return records

    def _wait_for_messages(self, mapping: SqsMapping, seen: int, longest: float) -> None:
        """Sleep until a message arrives, one becomes visible again, or ``longest`` passes."""
        delay = min(longest, self._next_visible_in(mapping))
        with _queue_changes:
            _queue_changes.wait_for(
                lambda: self._stop.is_set()
                or _change_counts.get(mapping.queue_arn, 0) != seen,
                timeout=max(delay, 0.0),
            )

    @staticmethod
    def _next_visible_in(mapping: SqsMapping) -> float:
        from moto.core.utils import unix_time_millis

        with runtime.LOCK:
            queue = _find_queue(mapping.queue_arn)
            if queue is None:
                return IDLE_RECHECK_SECONDS
            now = unix_time_millis()
            # moto has no public view of in-flight and delayed messages.
            times = [max(m.visible_at, m.delayed_until) for m in list(queue._messages)]
        future = [t for t in times if t > now]
        if not future:
            return IDLE_RECHECK_SECONDS
        return min(IDLE_RECHECK_SECONDS, (min(future) - now) / 1000 + 0.005)

    def _process(self, mapping: SqsMapping, records: list[dict[str, Any]]) -> None:
        counts = {"batches": 1, "messages_deleted": 0, "failed_batches": 0}
        try:
            ids = {record["messageId"] for record in records}
            payload = json.dumps({"Records": records}).encode()
            try:
                result = self.owner.invoke_function(
                    mapping.account_id, mapping.region, mapping.function_arn, payload)
            except Exception as exc:  # function gone, throttled, unsupported runtime
                log.warning("mapping %s: invoking %s failed: %s", mapping.uuid,
                            mapping.function_arn, exc)
                failed = ids
            else:
                if result.function_error:
                    failed = ids
                elif mapping.report_item_failures:
                    failed = failed_message_ids(result.payload, ids)
                else:
                    failed = set()
            counts["failed_batches"] = int(bool(failed))
            if self.generation != self.owner.generation:
                return  # the local cloud was reset meanwhile
            done = [r for r in records if r["messageId"] not in failed]
            self._delete(mapping, done)
            counts["messages_deleted"] = len(done)
        except Exception:
            log.exception("mapping %s: processing a batch failed", mapping.uuid)
        finally:
            self._release_slot(**counts)

    @staticmethod
    def _delete(mapping: SqsMapping, records: list[dict[str, Any]]) -> None:
        from moto.sqs.models import sqs_backends

        with runtime.LOCK:
            queue = _find_queue(mapping.queue_arn)
            if queue is None:
                return
            backend = sqs_backends[queue.account_id][queue.region]
            for record in records:
                try:
                    backend.delete_message(queue.name, record["receiptHandle"])
                except Exception as exc:  # purged or already gone
                    log.debug("deleting %s failed: %s", record["messageId"], exc)


# -- the component ------------------------------------------------------------------------------


class LambdaRuntime:
    """Runs functions in worker processes and polls SQS event source mappings."""

    name = "lambda"

    def __init__(self, rt: runtime.Runtime) -> None:
        self.runtime = rt
        self.generation = 0
        self.pool = WorkerPool()
        self.pollers: dict[str, SqsPoller] = {}
        self._pollers_lock = threading.Lock()
        self._code_lock = threading.Lock()
        self._code_root: Path | None = None
        self._async = ThreadPoolExecutor(ASYNC_INVOKE_THREADS, thread_name_prefix="lambda-event")
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None

    # -- component protocol -------------------------------------------------------------------

    def start(self) -> None:
        self._supervisor = threading.Thread(target=self._supervise, name="lambda-supervisor",
                                            daemon=True)
        self._supervisor.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        pollers = self._take_pollers()
        for poller in pollers:
            poller.stop()
        self.pool.close_all()
        if self._supervisor is not None:
            self._supervisor.join(5)
        for poller in pollers:
            poller.join(5)
        self._async.shutdown(wait=False, cancel_futures=True)
        if self._code_root is not None:
            shutil.rmtree(self._code_root, ignore_errors=True)

    def reset(self) -> None:
        # Called under runtime.LOCK: signal and kill, never wait here.
        self.generation += 1
        for poller in self._take_pollers():
            poller.stop()
        self.pool.close_all(background=True)
        self._wake.set()

    def status(self) -> dict[str, Any]:
        workers = self.pool.describe()
        with runtime.LOCK:
            mappings = [
                {
                    "uuid": esm.uuid,
                    "region": region,
                    "event_source_arn": esm.event_source_arn,
                    "function_arn": esm.function_arn,
                    "state": "Enabled" if _enabled(esm.enabled) else "Disabled",
                    "batch_size": esm.batch_size,
                    "maximum_batching_window_seconds": esm.max_batch_window or 0,
                    "function_response_types": esm.function_response_types or [],
                }
                for _, region, backend in runtime.regional_backends(_lambda_backends())
                for esm in list(backend.list_event_source_mappings("", ""))
                if _is_sqs_arn(esm.event_source_arn)
            ]
        with self._pollers_lock:
            pollers = dict(self.pollers)
        for mapping in mappings:
            poller = pollers.get(mapping["uuid"])
            mapping["polling"] = bool(poller and poller.alive())
            mapping.update(poller.describe() if poller else {})
        return {"workers": workers, "worker_count": len(workers), "sqs_mappings": mappings}

    # -- invoking -----------------------------------------------------------------------------

    def invoke_function(self, account_id: str, region: str, function: str, payload: bytes,
                        qualifier: str | None = None) -> Invocation:
        """Run a function synchronously (for event sources and other parts of the local cloud).

        Raises moto's Lambda errors for unknown functions, unsupported runtimes, throttling.
        """
        from moto.awslambda.utils import get_backend

        with runtime.LOCK:
            spec = FunctionSpec.of(get_backend(account_id, region).get_function(function,
                                                                                qualifier))
        check_runnable(spec)
        with _lock_released():
            return self.run(spec, payload)

    def submit_event(self, spec: FunctionSpec, payload: bytes) -> None:
        """An asynchronous (``Event``) invocation: queued, run by a background thread."""

        generation = self.generation

        def run() -> None:
            if generation != self.generation:
                return  # queued before a reset
            try:
                result = self.run(spec, payload)
                if result.function_error:
                    log.info("asynchronous invocation %s of %s failed: %s",
                             result.request_id, spec.arn, result.error_type)
            except Exception as exc:
                log.warning("asynchronous invocation of %s failed: %s", spec.arn, exc)

        if not self._stopping.is_set():
            self._async.submit(run)

    def run(self, spec: FunctionSpec, payload: bytes) -> Invocation:
        """Run one invocation in a warm environment; never call with runtime.LOCK held."""
        if spec.reserved_concurrency == 0:
            raise _throttled()
        generation = self.generation
        request_id = str(uuid.uuid4())
        env = self.pool.acquire(spec, lambda gen: self._spawn(spec, gen))
        reusable = False
        try:
            request = {
                "requestId": request_id,
                "event": payload.decode("utf-8"),
                "invokedFunctionArn": spec.arn,
                "traceId": _trace_id(),
            }
            result = env.worker.invoke(request, spec.timeout)
            reusable = result.status in ("ok", "error") and not result.init_failed
        finally:
            self.pool.release(env, reusable)
        response, error_type = _outcome(spec, request_id, result)
        invocation = Invocation(
            request_id=request_id,
            payload=response,
            function_error="Unhandled" if error_type else None,
            error_type=error_type,
            executed_version=spec.version,
            log_lines=build_log(spec, request_id, result, error_type),
        )
        if generation == self.generation:
            self._write_logs(spec, env.log_stream, invocation.log_lines)
        return invocation

    def _spawn(self, spec: FunctionSpec, generation: int) -> Environment:
        task_root = str(self._unpacked_code(spec))
        stream = _log_stream_name(spec.version)
        env = worker_environment(spec, task_root, stream, self.runtime.config.url)
        return Environment(spec, WorkerProcess(env, task_root), stream, generation)

    def _unpacked_code(self, spec: FunctionSpec) -> Path:
        """The function's zip, unpacked once per code hash (``LAMBDA_TASK_ROOT``)."""
        with self._code_lock:
            if self._code_root is None:
                self._code_root = Path(tempfile.mkdtemp(prefix="localcloud-lambda-"))
            target = self._code_root / spec.code_sha256
            if not target.is_dir():
                staging = Path(tempfile.mkdtemp(dir=self._code_root))
                try:
                    with zipfile.ZipFile(io.BytesIO(spec.code)) as archive:
                        archive.extractall(staging)
                except zipfile.BadZipFile:
                    log.warning("function %s: code is not a zip file", spec.arn)
                staging.rename(target)
            return target

    @staticmethod
    def _write_logs(spec: FunctionSpec, stream: str, lines: list[LogLine]) -> None:
        from moto.logs.models import logs_backends

        events = [{"timestamp": line.timestamp_ms, "message": line.message} for line in lines]
        with runtime.LOCK:
            backend = logs_backends[spec.account_id][spec.region]
            backend.ensure_log_group(spec.log_group)
            backend.ensure_log_stream(spec.log_group, stream)
            backend.put_log_events(spec.log_group, stream, events)

    # -- background work ----------------------------------------------------------------------

    def wake(self) -> None:
        """Re-read mappings now (a mapping was created, changed or deleted)."""
        self._wake.set()

    def _take_pollers(self) -> list[SqsPoller]:
        with self._pollers_lock:
            pollers = list(self.pollers.values())
            self.pollers.clear()
        return pollers

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                self._sync_pollers()
                self._reap_workers()
            except Exception:
                log.exception("Lambda supervisor pass failed")
            self._wake.wait(SUPERVISE_SECONDS)

    def _sync_pollers(self) -> None:
        """One poller per enabled SQS mapping, found afresh in every account and region."""
        wanted: dict[str, tuple[str, str]] = {}
        with runtime.LOCK:
            for account_id, region, backend in runtime.regional_backends(_lambda_backends()):
                for esm in list(backend.list_event_source_mappings("", "")):
                    if _is_sqs_arn(esm.event_source_arn) and _enabled(esm.enabled):
                        wanted[esm.uuid] = (account_id, region)
        with self._pollers_lock:
            if self._stopping.is_set():
                return
            for mapping_id, poller in list(self.pollers.items()):
                if mapping_id not in wanted or not poller.alive():
                    poller.stop()
                    del self.pollers[mapping_id]
            for mapping_id, (account_id, region) in wanted.items():
                if mapping_id not in self.pollers:
                    poller = SqsPoller(self, account_id, region, mapping_id, self.generation)
                    self.pollers[mapping_id] = poller
                    poller.start()

    def _reap_workers(self) -> None:
        keys: set[tuple[Any, ...]] = set()
        with runtime.LOCK:
            for _, _, backend in runtime.regional_backends(_lambda_backends()):
                for fn in list(backend.list_functions()):
                    keys.add(FunctionSpec.of(fn).key)
                    for version in list(backend.list_versions_by_function(fn.function_name))[1:]:
                        keys.add(FunctionSpec.of(version).key)
        self.pool.reap(keys, WORKER_IDLE_SECONDS)


def _lambda_backends() -> Any:
    from moto.backends import get_backend

    return get_backend("lambda")


def _component() -> LambdaRuntime:
    component = runtime.current().components.get(LambdaRuntime.name)
    if component is None:
        raise RuntimeError("the Lambda runtime component is not running")
    return component


def check_runnable(spec: FunctionSpec) -> None:
    if not spec.runnable:
        raise _invalid_runtime(spec)


# -- moto patches -------------------------------------------------------------------------------


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name)
    if value is None and isinstance(headers, dict):
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def _event_payload(body: Any) -> bytes:
    raw = body if isinstance(body, bytes) else (body or "").encode("utf-8")
    if not raw.strip():
        return b"{}"
    try:
        json.loads(raw)
    except ValueError as exc:
        raise _lambda_error("InvalidRequestContentException",
                            f"Could not parse request body into json: Could not parse payload "
                            f"into json: {exc}") from exc
    return raw


def _invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
    """``LambdaFunction.invoke``: run the function's code as the Invoke API asked."""
    mode = getattr(_caller, "mode", None)
    if mode == "api":
        invocation_type = _header(request_headers, "X-Amz-Invocation-Type") or "RequestResponse"
    else:  # InvokeAsync, or moto delivering a notification: asynchronous on AWS
        invocation_type = "Event"
    if invocation_type not in ("RequestResponse", "Event", "DryRun"):
        raise _lambda_error("InvalidParameterValueException",
                            f"Unsupported invocation type {invocation_type}")
    payload = _event_payload(body)
    spec = FunctionSpec.of(self)
    if mode is None and not spec.runnable:
        # A notification from another service must not fail the request that caused it.
        log.warning("not invoking %s: %s", spec.arn, _invalid_runtime(spec))
        return b"{}"
    check_runnable(spec)
    if invocation_type == "DryRun":
        return b""
    component = _component()
    if invocation_type == "Event":
        component.submit_event(spec, payload)
        # moto's own callers read the answer (a DynamoDB stream keeps records until it is
        # non-empty); the API answers 202 with an empty body.
        return b"" if mode else b"{}"
    with _lock_released():
        result = component.run(spec, payload)
    response_headers["x-amz-executed-version"] = result.executed_version
    response_headers["x-amz-log-result"] = result.log_tail()
    if result.function_error:
        response_headers["x-amz-function-error"] = result.function_error
    return result.payload


def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
    """moto's Docker path, replaced: run the code here instead."""
    spec = FunctionSpec.of(self)
    check_runnable(spec)
    with _lock_released():
        result = _component().run(spec, json.dumps({} if event is None else event).encode())
    return result.payload.decode("utf-8"), bool(result.function_error), result.log_text


def _mark_caller(method: Callable[..., Any], mode: str) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        _caller.mode = mode
        try:
            return method(self, *args, **kwargs)
        finally:
            _caller.mode = None

    return wrapper


def _validate_sqs_mapping(backend: Any, spec: dict[str, Any]) -> None:
    """CreateEventSourceMapping's check that the queue hides a message for the function's run."""
    source = spec.get("EventSourceArn") or ""
    queue = _find_queue(source) if _is_sqs_arn(source) else None
    if queue is None or not spec.get("FunctionName"):
        return
    try:
        fn = backend.get_function(spec["FunctionName"])
    except Exception:
        return  # moto reports the unknown function itself
    visibility, timeout = int(queue.visibility_timeout), int(fn.timeout or 3)
    if visibility < timeout:
        raise _lambda_error("InvalidParameterValueException",
                            f"Queue visibility timeout: {visibility} seconds is less than "
                            f"Function timeout: {timeout} seconds")


def _wake_component() -> None:
    with suppress(RuntimeError):
        _component().wake()


def _logging_config(given: dict[str, Any] | None, function_name: str,
                    current: dict[str, Any] | None = None) -> dict[str, Any]:
    config = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function_name}", **(current or {})}
    config.update({k: v for k, v in (given or {}).items() if v not in (None, "")})
    return config


def set_logging_config(fn: Any, given: dict[str, Any] | None, merge: bool = False) -> None:
    """Set a function's LoggingConfig: ``given`` over the current one (``merge``, as
    UpdateFunctionConfiguration does) or over the defaults (as a template states it whole)."""
    current = getattr(fn, "logging_config", None) if merge else None
    fn.logging_config = _logging_config(given, fn.function_name, current)
    fn.logs_group_name = fn.logging_config["LogGroup"]


def install() -> None:
    """Route moto's Lambda invocations and SQS mappings through this module (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    from moto.awslambda import models as lambda_models
    from moto.awslambda import responses as lambda_responses
    from moto.sqs import models as sqs_models

    function_cls = lambda_models.LambdaFunction
    backend_cls = lambda_models.LambdaBackend

    function_cls.invoke = _invoke
    function_cls._invoke_lambda = _invoke_lambda
    response_cls = lambda_responses.LambdaResponse
    response_cls.invoke = _mark_caller(response_cls.invoke, "api")
    response_cls.invoke_async = _mark_caller(response_cls.invoke_async, "event")

    # SQS: Lambda polls; moto would invoke inside SendMessage and keep the message.
    original_add_message = sqs_models.Queue.add_message

    original_delete_message = sqs_models.Queue.delete_message
    original_change_visibility = sqs_models.SQSBackend.change_message_visibility

    def add_message(self: Any, message: Any) -> None:
        self.lambda_event_source_mappings.clear()
        original_add_message(self, message)
        _note_change(self.queue_arn)

    def delete_message(self: Any, receipt_handle: str) -> None:
        original_delete_message(self, receipt_handle)
        _note_change(self.queue_arn)  # may unblock a FIFO message group

    def change_message_visibility(self: Any, queue_name: str, receipt_handle: str,
                                  visibility_timeout: int) -> None:
        original_change_visibility(self, queue_name, receipt_handle, visibility_timeout)
        _note_change(self.get_queue(queue_name).queue_arn)

    sqs_models.Queue.add_message = add_message
    sqs_models.Queue.delete_message = delete_message
    sqs_models.SQSBackend.change_message_visibility = change_message_visibility

    original_create = backend_cls.create_event_source_mapping
    original_update = backend_cls.update_event_source_mapping
    original_delete = backend_cls.delete_event_source_mapping

    def create_event_source_mapping(self: Any, spec: dict[str, Any]) -> Any:
        _validate_sqs_mapping(self, spec)
        esm = original_create(self, spec)
        _wake_component()
        return esm

    def update_event_source_mapping(self: Any, mapping_id: str, spec: dict[str, Any]) -> Any:
        esm = original_update(self, mapping_id, spec)
        _wake_component()
        return esm

    def delete_event_source_mapping(self: Any, mapping_id: str) -> Any:
        esm = original_delete(self, mapping_id)
        _wake_component()
        return esm

    backend_cls.create_event_source_mapping = create_event_source_mapping
    backend_cls.update_event_source_mapping = update_event_source_mapping
    backend_cls.delete_event_source_mapping = delete_event_source_mapping

    # LoggingConfig: moto drops it; Lambda logs to its LogGroup and returns it.
    original_init = function_cls.__init__
    original_update_configuration = function_cls.update_configuration
    original_get_configuration = function_cls.get_configuration

    def __init__(self: Any, account_id: str, spec: dict[str, Any], region: str,
                 version: str | int = 1) -> None:
        original_init(self, account_id, spec, region, version)
        set_logging_config(self, spec.get("LoggingConfig"))

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "LoggingConfig" in config_updates:
            set_logging_config(self, config_updates["LoggingConfig"], merge=True)
        return original_update_configuration(self, config_updates)

    def get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
        config = original_get_configuration(self, on_create)
        config["LoggingConfig"] = dict(getattr(self, "logging_config", None)
                                       or _logging_config(None, self.function_name))
        return config

    function_cls.__init__ = __init__
    function_cls.update_configuration = update_configuration
    function_cls.get_configuration = get_configuration
