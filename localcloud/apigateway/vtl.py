"""API Gateway mapping templates: Velocity (airspeed) with the variables API Gateway defines.

API Gateway renders request, response and gateway-response templates with Apache Velocity
and gives them ``$input``, ``$util``, ``$context`` and ``$stageVariables``. airspeed is a
Python Velocity, so what differs is how values behave once they are Java objects on AWS:

- JSON values from ``$input.path()`` / ``$util.parseJson()`` keep Java's string forms: a map
  prints as ``{a=1, b=x}``, a list prints as compact JSON, booleans print ``true``/``false``;
  maps and lists answer ``size()``, ``isEmpty()``, ``keySet()``, ``get()``, ``containsKey()``.
- A reference whose value is null renders as an empty string, as API Gateway does (plain
  Velocity, and airspeed, print the reference's source text).
- ``$input.json()`` writes compact JSON; ``$util.escapeJavaScript()`` follows the Apache
  Commons Lang 2 rules API Gateway uses (``'`` becomes ``\\'``, ``/`` becomes ``\\/``,
  non-ASCII becomes ``\\uXXXX``).
- A template that reads the body as JSON when it is not JSON fails as AWS does, with
  ``Could not parse request body into json: ...`` (the gateway answers 400).
"""

from __future__ import annotations

import base64
import contextvars
import functools
import json
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import airspeed
from jsonpath_ng.ext import parse as parse_jsonpath

__all__ = [
    "InputVariable",
    "TemplateFailed",
    "Util",
    "VtlList",
    "VtlMap",
    "jsonpath_value",
    "render",
    "to_plain",
    "to_vtl",
]


class TemplateFailed(Exception):
    """A template could not be rendered (a configuration error: AWS answers 500)."""


class BodyNotJson(Exception):
    """A template read a non-JSON body as JSON (AWS answers 400)."""


# -- Java-like values ------------------------------------------------------------------------


class JavaBool(int):
    """A boolean that prints as Java prints it (``true``/``false``), still truthy/falsy."""

    def __new__(cls, value: bool) -> JavaBool:
        return super().__new__(cls, 1 if value else 0)

    def __str__(self) -> str:
        return "true" if self else "false"

    __repr__ = __str__


class VtlMap(dict):
    """A JSON object inside a template: a ``java.util.Map``."""

    def __str__(self) -> str:
        return "{" + ", ".join(f"{key}={_java_str(value)}" for key, value in self.items()) + "}"

    __repr__ = __str__

    def size(self) -> int:
        return len(self)

    def isEmpty(self) -> bool:
        return not self

    def keySet(self) -> VtlList:
        return VtlList(self.keys())

    def containsKey(self, key: Any) -> bool:
        return key in self

    def put(self, key: Any, value: Any) -> Any:
        previous = self.get(key)
        self[key] = value
        return previous

    def entrySet(self) -> VtlList:
        return VtlList(VtlMap(key=key, value=value) for key, value in self.items())


class VtlList(list):
    """A JSON array inside a template: a ``java.util.List`` printed as compact JSON."""

    def __str__(self) -> str:
        return json.dumps(to_plain(self), separators=(",", ":"), ensure_ascii=False)

    __repr__ = __str__

    def size(self) -> int:
        return len(self)

    def isEmpty(self) -> bool:
        return not self

    def get(self, index: int) -> Any:
        return self[index]

    def contains(self, value: Any) -> bool:
        return value in self

    def add(self, value: Any) -> bool:
        self.append(value)
        return True


def _java_str(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_vtl(value: Any) -> Any:
    """A decoded JSON value as templates see it."""
    if isinstance(value, dict):
        return VtlMap((key, to_vtl(item)) for key, item in value.items())
    if isinstance(value, list):
        return VtlList(to_vtl(item) for item in value)
    if isinstance(value, bool):
        return JavaBool(value)
    return value


def to_plain(value: Any) -> Any:
    """Back to plain JSON-serialisable Python values."""
    if isinstance(value, JavaBool):
        return bool(value)
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    return value


# -- JSONPath --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _compiled_path(path: str) -> Any:
    return parse_jsonpath(path)


def _is_definite(path: str) -> bool:
    """A path that names one value (no wildcard, filter, union, slice or deep scan)."""
    return not any(token in path for token in ("*", "..", "?(", ",", ":"))


def jsonpath_value(document: Any, path: str) -> Any:
    """The value a JSONPath selects: one value for a definite path, else a list."""
    path = (path or "$").strip()
    if not path.startswith("$"):
        path = "$." + path
    try:
        expression = _compiled_path(path)
    except Exception as exc:  # jsonpath-ng raises several types, JsonPathParserError among them
        raise TemplateFailed(f"invalid JSONPath {path!r}: {exc}") from exc
    matches = [match.value for match in expression.find(document)]
    if _is_definite(path):
        return matches[0] if matches else None
    return matches


# -- $input and $util ------------------------------------------------------------------------


class InputVariable:
    """``$input``: the payload (request or integration response) and the method request's
    parameters (``{"path": {...}, "querystring": {...}, "header": {...}}``)."""

    def __init__(self, body: str, params: dict[str, dict[str, str]]) -> None:
        self._body = body
        self._params = VtlMap(
            (kind, VtlMap(params.get(kind, {}))) for kind in ("path", "querystring", "header")
        )
        self._document: Any = None
        self._parsed = False

    def _json(self) -> Any:
        if not self._parsed:
            text = self._body.strip()
            if not text:
                self._document = {}
            else:
                try:
                    self._document = json.loads(text)
                except ValueError as exc:
                    raise BodyNotJson(
                        f"Could not parse request body into json: Could not parse payload "
                        f"into json: {exc}"
                    ) from exc
            self._parsed = True
        return self._document

    @property
    def body(self) -> str:
        # API Gateway gives an empty payload to templates as an empty JSON object.
        return self._body if self._body else "{}"

    def json(self, path: str = "$") -> str:
        value = jsonpath_value(self._json(), path)
        return json.dumps(to_plain(value), separators=(",", ":"), ensure_ascii=False)

    def path(self, path: str = "$") -> Any:
        return to_vtl(jsonpath_value(self._json(), path))

    def params(self, name: str | None = None) -> Any:
        if name is None:
            return self._params
        for kind in ("path", "querystring"):
            if name in self._params[kind]:
                return self._params[kind][name]
        lowered = name.lower()
        for header, value in self._params["header"].items():
            if header.lower() == lowered:
                return value
        return ""


def escape_javascript(value: Any) -> str:
    """Apache Commons Lang 2 ``StringEscapeUtils.escapeJavaScript``, as API Gateway uses."""
    if value is None:
        return ""
    text = _java_str(value)
    out: list[str] = []
    for char in text:
        code = ord(char)
        if code > 0xFFF:
            out.append(f"\\u{code:04X}" if code <= 0xFFFF else _surrogates(code))
        elif code > 0xFF:
            out.append(f"\\u0{code:03X}")
        elif code > 0x7F:
            out.append(f"\\u00{code:02X}")
        elif code < 32:
            out.append(_CONTROL_ESCAPES.get(char, f"\\u00{code:02X}"))
        elif char in "'\"\\/":
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


_CONTROL_ESCAPES = {"\b": "\\b", "\n": "\\n", "\t": "\\t", "\f": "\\f", "\r": "\\r"}


def _surrogates(code: int) -> str:
    code -= 0x10000
    high, low = 0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)
    return f"\\u{high:04X}\\u{low:04X}"


class Util:
    """``$util``."""

    def escapeJavaScript(self, value: Any) -> str:
        return escape_javascript(value)

    def urlEncode(self, value: Any) -> str:
        # java.net.URLEncoder: spaces become '+', only [A-Za-z0-9.*_-] stay as they are.
        return quote_plus(_java_str(value), safe="*").replace("~", "%7E")

    def urlDecode(self, value: Any) -> str:
        return unquote_plus(_java_str(value))

    def base64Encode(self, value: Any) -> str:
        return base64.b64encode(_java_str(value).encode()).decode()

    def base64Decode(self, value: Any) -> str:
        return base64.b64decode(_java_str(value)).decode(errors="replace")

    def parseJson(self, value: Any) -> Any:
        try:
            return to_vtl(json.loads(_java_str(value)))
        except ValueError as exc:
            raise TemplateFailed(f"$util.parseJson: {exc}") from exc


# -- Rendering -------------------------------------------------------------------------------

# Set while an API Gateway template renders: a null reference then renders as ''.
_NULL_IS_EMPTY: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "apigateway_null_is_empty", default=False)


def _render_null_as_empty() -> None:
    """Teach airspeed API Gateway's null rendering, only while our templates render.

    airspeed prints a null reference's source text, as Velocity does; API Gateway prints
    nothing. The patch is gated by a context variable, so any other airspeed user in the
    process keeps Velocity's behaviour.
    """
    reference = airspeed.FormalReference
    if getattr(reference, "_localcloud_null_is_empty", False):
        return
    original = reference.evaluate_raw

    def evaluate_raw(self: Any, stream: Any, namespace: Any, loader: Any) -> None:
        if _NULL_IS_EMPTY.get() and self.expression is not None and self.alternate is None:
            value = self.expression.calculate(namespace, loader)
            stream.write("" if value is None else str(value))
            return
        original(self, stream, namespace, loader)

    reference.evaluate_raw = evaluate_raw
    reference._localcloud_null_is_empty = True


_render_null_as_empty()


@functools.lru_cache(maxsize=256)
def _compiled(template: str) -> airspeed.Template:
    compiled = airspeed.Template(template)
    try:
        compiled.ensure_compiled()
    except airspeed.TemplateSyntaxError as exc:
        raise TemplateFailed(f"template syntax error: {exc}") from exc
    return compiled


def render(template: str, namespace: dict[str, Any]) -> str:
    """Render a mapping template. ``namespace`` holds input/context/stageVariables/util.

    Raises ``TemplateFailed`` (configuration error) or ``BodyNotJson`` (client error).
    """
    token = _NULL_IS_EMPTY.set(True)
    try:
        return _compiled(template).merge(namespace)
    except (TemplateFailed, BodyNotJson):
        raise
    except airspeed.TemplateError as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, TemplateFailed | BodyNotJson):
            raise cause from exc
        raise TemplateFailed(str(exc)) from exc
    except Exception as exc:  # airspeed surfaces template bugs as arbitrary exceptions
        if isinstance(exc.__cause__, BodyNotJson):
            raise exc.__cause__ from exc
        raise TemplateFailed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        _NULL_IS_EMPTY.reset(token)


def namespace(
    *,
    body: str,
    params: dict[str, dict[str, str]],
    context: dict[str, Any],
    stage_variables: dict[str, str],
) -> dict[str, Any]:
    """The variables every API Gateway template sees."""
    return {
        "input": InputVariable(body, params),
        "util": Util(),
        "context": context,
        "stageVariables": VtlMap(stage_variables),
    }
