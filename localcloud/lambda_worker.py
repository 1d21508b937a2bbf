"""One Lambda execution environment: a Python process that runs one function's handler.

Both sides of the protocol live here. The local cloud (``WorkerProcess``, parent side) starts
``python -u -m localcloud.lambda_worker`` in the function's unpacked code (``LAMBDA_TASK_ROOT``)
with the environment Lambda would set; the child (``main``) then does what AWS's Python runtime
interface client does, minus the Runtime API HTTP loop:

- init: import the handler once (``_HANDLER`` is ``module.function``, ``pkg.mod.function`` or
  ``pkg/mod.function``), reporting the runtime's own fault types (``Runtime.ImportModuleError``,
  ``Runtime.HandlerNotFound`` ...) when that fails;
- invoke: one JSON request per line on stdin; the result, or the error as AWS shapes it
  (``errorMessage``, ``errorType``, ``requestId``, ``stackTrace``), as one JSON line on a
  separate control pipe;
- logs: the function's stdout and stderr go to the parent unbuffered, which timestamps each
  line as it arrives; the root logger gets Lambda's text format, and an error report is one
  multi-line log event (lines joined by ``\\r``, leading spaces as U+00A0), as AWS writes it.

The child imports only the standard library before the handler, takes the control pipe out of
the environment and points stdin at /dev/null before any user code runs, and leaves when stdin
closes, so it never outlives the local cloud that started it by more than one invocation.
"""

from __future__ import annotations

import base64
import contextlib
import decimal
import importlib
import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, TextIO

CONTROL_FD_ENV = "_LOCALCLOUD_LAMBDA_CONTROL_FD"
# Lambda's limit for the init phase (importing the handler module).
INIT_TIMEOUT_SECONDS = 10.0

_ERROR_LINE_SEPARATOR = "\r"
_ERROR_INDENT = "\u00a0"

# -- child side ------------------------------------------------------------------------------

_request_id: str | None = None


class FaultError(Exception):
    """A failure the runtime itself reports, with one of AWS's ``Runtime.*`` error types."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


class LambdaContext:
    """The ``context`` argument, with the attributes AWS's Python runtime gives it.

    ``memory_limit_in_mb`` is a string, as in AWS's runtime (it comes from the environment).
    """

    def __init__(self, request: dict[str, Any]) -> None:
        self.aws_request_id = request["requestId"]
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = request.get("invokedFunctionArn")
        self.tenant_id = None
        self.client_context = None
        self.identity = SimpleNamespace(cognito_identity_id=None, cognito_identity_pool_id=None)
        self._deadline_ms = int(request["deadlineMs"])

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, message: Any) -> None:
        sys.stdout.write(str(message))


class _Encoder(json.JSONEncoder):
    """JSON for results: ``Decimal`` (DynamoDB numbers) become numbers, as in AWS's runtime."""

    def default(self, o: Any) -> Any:
        if isinstance(o, decimal.Decimal):
            return int(o) if o == o.to_integral_value() else float(o)
        return super().default(o)


def load_handler(handler: str) -> Any:
    """Import the handler as AWS's Python runtime does, with its error types and messages."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise FaultError("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}") from exc
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise FaultError("Runtime.BuiltInModuleConflict",
                         f"Cannot use built-in module {module_name} as a handler module")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise FaultError("Runtime.ImportModuleError",
                         f"Unable to import module '{module_name}': {exc}") from exc
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise FaultError("Runtime.UserCodeSyntaxError",
                         f"Syntax error in module '{module_name}': {exc}", trace) from exc
    try:
        return getattr(module, function_name)
    except AttributeError as exc:
        raise FaultError("Runtime.HandlerNotFound",
                         f"Handler '{function_name}' missing on module '{module_name}'") from exc


def make_error(message: str, error_type: str, trace: list[str] | None,
               request_id: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id or "",
        "stackTrace": trace or [],
    }


def error_from_exception(exc: BaseException, request_id: str | None = None) -> dict[str, Any]:
    """The error AWS reports for an exception in user code: frames of this file left out."""
    frames = traceback.extract_tb(exc.__traceback__)
    while frames and frames[0].filename == __file__:
        frames = traceback.StackSummary.from_list(frames[1:])
    return make_error(str(exc), type(exc).__name__, traceback.format_list(frames), request_id)


def log_error(error: dict[str, Any]) -> None:
    """Write an error report as one log event, in the layout of AWS's text log format."""
    head = "[ERROR]"
    if error.get("errorType"):
        head += " " + error["errorType"]
    if error.get("errorMessage"):
        head += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
    lines = [head, "Traceback (most recent call last):"]
    for element in error.get("stackTrace") or []:
        for line in element.splitlines():
            stripped = line.lstrip(" ")
            lines.append(_ERROR_INDENT * (len(line) - len(stripped)) + stripped)
    sys.stdout.write(_ERROR_LINE_SEPARATOR.join(lines) + "\n")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id or ""
        return True


def _setup_logging() -> None:
    """The root logger of AWS's Python runtime: text format, UTC, the request id on each line."""
    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    ))
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in logging.getLevelNamesMapping():
        logging.getLogger().setLevel(level)


def _encode_result(result: Any) -> dict[str, Any]:
    if isinstance(result, bytes):
        return {"payloadBase64": base64.b64encode(result).decode("ascii")}
    # AWS's encoder keeps non-ASCII characters as they are only for python3.12.
    ensure_ascii = os.environ.get("AWS_EXECUTION_ENV") != "AWS_Lambda_python3.12"
    try:
        return {"payload": json.dumps(result, cls=_Encoder, ensure_ascii=ensure_ascii)}
    except (TypeError, ValueError) as exc:
        raise FaultError("Runtime.MarshalError", f"Unable to marshal response: {exc}") from exc


def _max_memory_used_mb() -> int:
    """Peak resident memory of this process (VmHWM; ru_maxrss would include the parent's,
    as it survives fork and exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return max(int(line.split()[1]) // 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    import resource

    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, 1)


def handle(handler: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Run one invocation; the answer for the control pipe."""
    global _request_id
    _request_id = request["requestId"]
    os.environ["_X_AMZN_TRACE_ID"] = request.get("traceId", "")
    error: dict[str, Any] | None = None
    answer: dict[str, Any] = {"type": "result", "requestId": _request_id}
    try:
        try:
            event = json.loads(request["event"])
        except ValueError as exc:
            raise FaultError("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}") from exc
        answer.update(_encode_result(handler(event, LambdaContext(request))))
    except FaultError as exc:
        error = make_error(exc.message, exc.error_type, exc.trace, _request_id)
    except Exception as exc:
        error = error_from_exception(exc, _request_id)
    if error is not None:
        log_error(error)
        answer = {"type": "error", "requestId": _request_id, "error": error}
    sys.stdout.flush()
    sys.stderr.flush()
    answer["maxMemoryUsedMb"] = _max_memory_used_mb()
    return answer


def _send(control: TextIO, message: dict[str, Any]) -> None:
    control.write(json.dumps(message) + "\n")
    control.flush()


def main() -> int:
    control = os.fdopen(int(os.environ.pop(CONTROL_FD_ENV)), "w", encoding="utf-8")
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    if sys.path[0] != task_root:
        sys.path.insert(0, task_root)
    _setup_logging()
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except FaultError as exc:
        error = make_error(exc.message, exc.error_type, exc.trace)
    except Exception as exc:
        error = error_from_exception(exc)
    else:
        _send(control, {"type": "ready"})
        for line in requests:
            _send(control, handle(handler, json.loads(line)))
        return 0
    log_error(error)
    sys.stdout.flush()
    _send(control, {"type": "init_error", "error": error})
    return 1


# -- parent side -----------------------------------------------------------------------------


@dataclass
class LogLine:
    timestamp_ms: int
    message: str


@dataclass
class RunResult:
    """What one invocation in a worker came to.

    ``status`` is ``ok`` (``payload`` is the result), ``error`` (``payload`` is the error JSON),
    ``timeout`` or ``exit`` (the process ended during the invocation).
    """

    status: str
    payload: bytes = b""
    error_type: str | None = None
    started_ms: int = 0  # wall clock when the request was sent
    duration_ms: float = 0.0
    init_duration_ms: float | None = None  # set on a cold start
    init_failed: bool = False
    max_memory_used_mb: int | None = None
    exit_code: int | None = None
    output_before: list[LogLine] = field(default_factory=list)  # init, between invocations
    output: list[LogLine] = field(default_factory=list)  # printed while the request ran


class WorkerProcess:
    """The parent's handle on one worker: start it, run invocations, kill it.

    One invocation at a time (the caller pools workers). ``terminate()`` may be called from any
    thread; ``close()`` only by the thread that owns the worker, since it closes the pipes.
    """

    def __init__(self, env: dict[str, str], cwd: str) -> None:
        control_read, control_write = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-u", "-m", "localcloud.lambda_worker"],
                cwd=cwd,
                env={**env, CONTROL_FD_ENV: str(control_write)},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(control_write,),
                start_new_session=True,  # its own process group: killed with its children
            )
        except BaseException:
            os.close(control_read)
            raise
        finally:
            os.close(control_write)
        self.pid = self.process.pid
        self.started = time.monotonic()
        self.ready = False
        self.init_duration_ms: float | None = None
        self._control = control_read
        self._output = self.process.stdout.fileno()  # type: ignore[union-attr]
        for fd in (self._control, self._output):
            os.set_blocking(fd, False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._control, selectors.EVENT_READ)
        self._selector.register(self._output, selectors.EVENT_READ)
        self._control_buffer = b""
        self._control_eof = False
        self._output_partial = b""
        self._lines: list[LogLine] = []
        self._last_ms = 0
        self._closed = False

    # -- reading ----------------------------------------------------------------------------

    def _now_ms(self) -> int:
        self._last_ms = max(int(time.time() * 1000), self._last_ms)  # never out of order
        return self._last_ms

    def _read(self, fd: int) -> None:
        if fd not in self._selector.get_map():
            return  # already at end of file
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self._selector.unregister(fd)
                if fd == self._control:
                    self._control_eof = True
                else:
                    self._flush_partial()
                return
            if fd == self._control:
                self._control_buffer += chunk
            else:
                self._take_output(chunk)

    def _take_output(self, chunk: bytes) -> None:
        *complete, self._output_partial = (self._output_partial + chunk).split(b"\n")
        now = self._now_ms()
        for raw in complete:
            self._lines.append(LogLine(now, _decode_line(raw)))

    def _flush_partial(self) -> None:
        if self._output_partial:
            self._lines.append(LogLine(self._now_ms(), _decode_line(self._output_partial)))
            self._output_partial = b""

    def _next_message(self, deadline: float) -> dict[str, Any] | None:
        """The next control message; ``None`` if the deadline passes first."""
        while True:
            if b"\n" in self._control_buffer:
                line, self._control_buffer = self._control_buffer.split(b"\n", 1)
                self._read(self._output)  # output written before the answer is already here
                self._flush_partial()
                return json.loads(line)
            if self._control_eof:
                return {"type": "exit"}
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            for key, _ in self._selector.select(remaining):
                self._read(key.fd)  # type: ignore[arg-type]

    def take_output(self) -> list[LogLine]:
        lines, self._lines = self._lines, []
        return lines

    # -- running ----------------------------------------------------------------------------

    def _wait_ready(self) -> RunResult | None:
        """Finish init on the first invocation; a RunResult when init failed."""
        message = self._next_message(self.started + INIT_TIMEOUT_SECONDS)
        init_ms = (time.monotonic() - self.started) * 1000
        if message is not None and message.get("type") == "ready":
            self.ready = True
            self.init_duration_ms = init_ms
            return None
        if message is None:
            self.terminate()
            result = RunResult("timeout", error_type="Sandbox.Timedout")
        elif message.get("type") == "init_error":
            error = message["error"]
            result = RunResult("error", json.dumps(error).encode(), error["errorType"])
        else:
            result = RunResult("exit", error_type="Runtime.ExitError")
        result.init_duration_ms = init_ms
        result.init_failed = True
        result.exit_code = self._reap()
        result.output_before = self.take_output()
        result.started_ms = self._now_ms()
        return result

    def invoke(self, request: dict[str, Any], timeout_seconds: float) -> RunResult:
        init_ms: float | None = None
        if not self.ready:
            failed = self._wait_ready()
            if failed is not None:
                return failed
            init_ms = self.init_duration_ms
        # Printed at import or by background threads between invocations: before START.
        before = self.take_output()
        began = time.monotonic()
        started_ms = self._now_ms()
        request = {**request, "deadlineMs": started_ms + int(timeout_seconds * 1000)}
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode())  # type: ignore[union-attr]
            self.process.stdin.flush()  # type: ignore[union-attr]
        except (BrokenPipeError, OSError, ValueError):
            message: dict[str, Any] | None = {"type": "exit"}
        else:
            message = self._next_message(began + timeout_seconds)
        duration_ms = (time.monotonic() - began) * 1000
        if message is None:
            memory = self.peak_memory_mb()
            self.terminate()
            result = RunResult("timeout", error_type="Sandbox.Timedout", max_memory_used_mb=memory)
            result.exit_code = self._reap()
        elif message.get("type") == "result":
            payload = message.get("payload")
            if payload is None:
                data = base64.b64decode(message.get("payloadBase64", ""))
            else:
                data = payload.encode("utf-8")
            result = RunResult("ok", data, max_memory_used_mb=message.get("maxMemoryUsedMb"))
        elif message.get("type") == "error":
            error = message["error"]
            result = RunResult("error", json.dumps(error).encode(), error.get("errorType"),
                               max_memory_used_mb=message.get("maxMemoryUsedMb"))
        else:
            result = RunResult("exit", error_type="Runtime.ExitError")
            result.exit_code = self._reap()
        result.duration_ms = duration_ms
        result.started_ms = started_ms
        result.init_duration_ms = init_ms
        result.output_before = before
        result.output = self.take_output()
        return result

    # -- lifecycle --------------------------------------------------------------------------

    def alive(self) -> bool:
        return not self._closed and self.process.poll() is None

    def peak_memory_mb(self) -> int | None:
        """VmHWM of the worker (Linux), for the REPORT line of an invocation it did not finish."""
        try:
            with open(f"/proc/{self.pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return max(int(line.split()[1]) // 1024, 1)
        except (OSError, ValueError, IndexError):
            pass
        return None

    def terminate(self) -> None:
        """Kill the worker and anything it started. Safe from any thread, more than once."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)

    def _reap(self) -> int | None:
        """Wait for the killed or exited process and collect the output it left."""
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None
        deadline = time.monotonic() + 0.5
        while self._output in self._selector.get_map() and time.monotonic() < deadline:
            for key, _ in self._selector.select(deadline - time.monotonic()):
                self._read(key.fd)  # type: ignore[arg-type]
        self._flush_partial()
        return code

    def close(self) -> None:
        """Kill the worker and release its pipes (owner thread only)."""
        if self._closed:
            return
        self._closed = True
        self.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self._selector.close()
        os.close(self._control)
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                stream.close()  # type: ignore[union-attr]


def _decode_line(raw: bytes) -> str:
    # An error report keeps its lines together with \r, as AWS's runtime does; show them as
    # line breaks inside the one event.
    return raw.decode("utf-8", errors="replace").rstrip("\r").replace("\r", "\n")


if __name__ == "__main__":
    sys.exit(main())
