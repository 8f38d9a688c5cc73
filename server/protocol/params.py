"""Query-protocol parameters: flattened ``Name.1.Sub`` keys to nested data, with typed access."""

from __future__ import annotations

import base64
import binascii
import builtins
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from server.errors import InvalidParameterValue, MissingParameter

#: Most dot-separated parts a parameter name may have (``Filter.1.Value.2`` has four).
MAX_NAME_PARTS = 16


def unflatten(flat: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Turn ``[("Filter.1.Name", "x"), ("Filter.1.Value.1", "y")]`` into nested data.

    Numeric path parts make lists (ordered by number); IAM-style ``member`` and
    ``entry`` wrappers collapse into the list they carry.
    """
    root: dict[str, Any] = {}
    for key, value in flat:
        if not key:
            continue
        parts = key.split(".")
        if len(parts) > MAX_NAME_PARTS:  # no API nests this deep; bounds the recursion below
            raise InvalidParameterValue(f"Invalid parameter name {key[:128]!r}: nested too "
                                        "deeply")
        node = root
        for part in parts[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = {}
                node[part] = nxt
            node = nxt
        last = parts[-1]
        if isinstance(node.get(last), dict):
            continue  # a scalar given where a structure exists: keep the structure
        node[last] = value
    # The top level stays a mapping even when every name is a number (``1=x``): a
    # request's parameters are named, and handlers look them up by name.
    return {k: _listify(v) for k, v in root.items()}


def _is_index(part: str) -> bool:
    """True for a list position (``1``, ``02``): ASCII digits only, of a sane length
    (``str.isdigit`` also accepts superscripts that ``int`` refuses)."""
    return part.isascii() and part.isdigit() and len(part) <= 9


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(_is_index(k) for k in node):
        return [_listify(node[k]) for k in sorted(node, key=int)]
    if len(node) == 1:
        (only,) = node
        if only in ("member", "entry") and isinstance(node[only], dict):
            inner = _listify(node[only])
            if isinstance(inner, list):
                return inner
    return {k: _listify(v) for k, v in node.items()}


_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


class Params(Mapping[str, Any]):
    """Typed, validating access to a request's nested parameters."""

    __slots__ = ("_data",)

    def __init__(self, data: dict[builtins.str, Any]):
        self._data = data

    def __getitem__(self, key: builtins.str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[builtins.str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def raw(self) -> dict[builtins.str, Any]:
        """The nested parameter data."""
        return self._data

    def str(self, name: builtins.str, default: builtins.str | None = None, *, required: bool = False) -> Any:
        """A string parameter; ``required`` raises MissingParameter when absent."""
        value = self._data.get(name)
        if value is None or value == "" and required:
            if required:
                raise MissingParameter(f"The request must contain the parameter {name}")
            return default
        if not isinstance(value, builtins.str):
            raise InvalidParameterValue(f"Invalid value for parameter {name}")
        return value

    def int(self, name: builtins.str, default: builtins.int | None = None, *, required: bool = False,
            minimum: builtins.int | None = None, maximum: builtins.int | None = None) -> Any:
        """An integer parameter, range-checked."""
        value = self.str(name, None, required=required)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise InvalidParameterValue(
                f"Invalid value '{value}' for {name}: must be an integer") from None
        if minimum is not None and number < minimum:
            raise InvalidParameterValue(f"Value ({number}) for parameter {name} is invalid. "
                                        f"Must be at least {minimum}.")
        if maximum is not None and number > maximum:
            raise InvalidParameterValue(f"Value ({number}) for parameter {name} is invalid. "
                                        f"Must be at most {maximum}.")
        return number

    def bool(self, name: builtins.str, default: builtins.bool | None = None) -> Any:
        """A boolean parameter (``true``/``false``)."""
        value = self._data.get(name)
        if isinstance(value, dict) and "Value" in value:  # AttributeBooleanValue shape
            value = value["Value"]
        if value is None:
            return default
        low = str(value).lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise InvalidParameterValue(f"Invalid value '{value}' for {name}: must be a boolean")

    def list(self, name: builtins.str) -> builtins.list[Any]:
        """A list parameter (``Name.1``, ``Name.2``...); a lone scalar becomes a list of one."""
        value = self._data.get(name)
        if value is None:
            return []
        if isinstance(value, builtins.list):
            return value
        if isinstance(value, dict):
            raise InvalidParameterValue(f"Invalid value for parameter {name}: expected a list")
        return [value]

    def strings(self, name: builtins.str) -> builtins.list[builtins.str]:
        """A list of strings."""
        out: builtins.list[builtins.str] = []
        for item in self.list(name):
            if not isinstance(item, builtins.str):
                raise InvalidParameterValue(f"Invalid value for parameter {name}")
            out.append(item)
        return out

    def struct(self, name: builtins.str) -> Params:
        """A nested structure (``Placement.AvailabilityZone``) as Params."""
        value = self._data.get(name)
        if value is None:
            return Params({})
        if not isinstance(value, dict):
            raise InvalidParameterValue(f"Invalid value for parameter {name}")
        return Params(value)

    def structs(self, name: builtins.str) -> builtins.list[Params]:
        """A list of structures."""
        out = []
        for item in self.list(name):
            if not isinstance(item, dict):
                raise InvalidParameterValue(f"Invalid value for parameter {name}")
            out.append(Params(item))
        return out

    def base64(self, name: builtins.str) -> bytes | None:
        """A base64 parameter decoded to bytes (or None when absent)."""
        value = self.str(name)
        if value is None:
            return None
        if isinstance(self._data.get(name), dict):
            value = self._data[name].get("Value")
        try:
            return base64.b64decode(value.encode(), validate=False)
        except (binascii.Error, ValueError):
            raise InvalidParameterValue(f"Invalid BASE64 encoding of {name}") from None

    def filters(self) -> dict[builtins.str, builtins.list[builtins.str]]:
        """``Filter.N.Name`` / ``Filter.N.Value.M`` as ``{name: [values]}`` (same names merge)."""
        out: dict[builtins.str, builtins.list[builtins.str]] = {}
        for item in self.structs("Filter"):
            name = item.str("Name", required=True)
            values = item.strings("Value")
            out.setdefault(name, []).extend(values)
        return out
