"""From an API's parameter names to Facemend ``Settings``, checked by params.py.

Each API has a table: its name for a parameter -> the ``Settings`` section and field it sets.
Types, ranges and choices stay where they are declared (the frozen dataclasses of
``restore_core.params``); errors name the parameter as the API spells it. Form fields arrive
as text and are read by the declared type; JSON values must already have it (as in a
settings file). A client can name no file: ``model`` is one of the named models only, and
references come as uploads, never as paths.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SettingsError
from ..params import NAMED_MODELS, FieldInfo, LimitSettings, Settings, field_info

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


@dataclass(frozen=True)
class Param:
    """Where an API parameter goes: ``Settings.<section>.<field>``, or ``Settings.<field>`` (section None)."""

    section: str | None
    field: str
    doc: str = ""  # what the API's reference says, when it says more than the field's own doc

    @property
    def info(self) -> FieldInfo:
        return field_info(self.section, self.field)

    @property
    def kind(self) -> type:
        """The field's base type: bool, int, float, str (or tuple, for face lists)."""
        kind = self.info.kind
        return typing.get_origin(kind) or kind


def build_settings(
    values: Mapping[str, Any],
    table: Mapping[str, Param],
    *,
    limits: LimitSettings,
    where: str,
) -> Settings:
    """``Settings`` from API ``values`` (JSON-typed); unknown names and bad values raise
    ``SettingsError`` naming the parameter. ``limits`` are the server's, never the request's."""
    unknown = sorted(set(values) - set(table))
    if unknown:
        raise SettingsError(f"{where}: unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(table))}")
    sections: dict[str | None, dict[str, Any]] = {}
    for name, value in values.items():
        param = table[name]
        _check_one(name, param, value, where)
        sections.setdefault(param.section, {})[param.field] = value
    face = sections.get("face", {})
    if "noise_sigma" in face or "blur_sigma" in face:  # as on the command line: giving either turns it on
        face.setdefault("precondition", True)
    data: dict[str, Any] = {**sections.pop(None, {}), **{k: v for k, v in sections.items() if k is not None}}
    data["limits"] = limits.to_json()
    try:
        return Settings.from_json(data)
    except SettingsError as exc:
        raise SettingsError(f"{where}: {exc}") from None


def with_reference(settings: Settings, path: Path) -> Settings:
    """``settings`` with every face guided by the reference photo at ``path`` (a file the server wrote)."""
    return dataclasses.replace(settings, face=dataclasses.replace(settings.face, reference=str(path)))


def parse_form_value(name: str, param: Param, text: str) -> Any:
    """A form field's text as the type of the field it sets; ``SettingsError`` when it is not one."""
    kind, value = param.kind, text.strip()
    if kind is bool:
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise SettingsError(f"{name} must be true or false, got {text!r}")
    if kind is int:
        try:
            return int(value)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, got {text!r}") from None
    if kind is float:
        try:
            number = float(value)
        except ValueError:
            raise SettingsError(f"{name} must be a number, got {text!r}") from None
        if not math.isfinite(number):
            raise SettingsError(f"{name} must be a finite number, got {text!r}")
        return number
    return value


def json_schema(param: Param) -> dict[str, Any]:
    """The OpenAPI schema of one parameter, from its declared type, range and choices."""
    kinds = {bool: "boolean", int: "integer", float: "number", str: "string", tuple: "array"}
    info = param.info
    schema: dict[str, Any] = {"type": kinds.get(param.kind, "string")}
    if info.range is not None and param.kind is not bool:
        schema["minimum"], schema["maximum"] = info.range
    if info.choices:
        schema["enum"] = list(info.choices)
    if param.section == "face" and param.field == "model":
        schema["enum"] = list(NAMED_MODELS)
    description = param.doc or info.doc
    if description:
        schema["description"] = description
    return schema


def multipart_schema(required: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    """OpenAPI for a multipart/form-data body (the endpoints read it themselves, streaming)."""
    schema = {"type": "object", "required": [required], "properties": dict(properties)}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


def _check_one(name: str, param: Param, value: Any, where: str) -> None:
    """Validate one value alone, so the error names the API's parameter, not Facemend's field."""
    if param.section == "face" and param.field == "model" and value not in NAMED_MODELS:
        raise SettingsError(f"{where}: {name} must be one of {', '.join(NAMED_MODELS)}, got {value!r}")
    single = {param.section: {param.field: value}} if param.section else {param.field: value}
    try:
        Settings.from_json(single)
    except SettingsError as exc:
        message = str(exc).removeprefix(f"{param.section}: ")
        raise SettingsError(f"{where}: {message.replace(param.field, name, 1)}") from None
