"""The kinds of value that hold others: a ``Mapping`` of ``Field``s (with ``Rule``s between them),
a ``ListOf`` one kind, a ``OneOf`` several forms, a ``Shorthand`` for a longer form. Like every kind
(``kinds.py``) each checks its YAML node, reports at the node's line and column, and describes
itself as JSON Schema.
"""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import Any

import yaml

from voiceguide.core.errors import Where
from voiceguide.script.kinds import INVALID, MISSING, Context, Kind, describe, join_path, quote


@dataclass(frozen=True)
class Field:
    """One field of a mapping.

    ``default`` (JSON-compatible) stands in for the field when it is not written, and is shown
    in the JSON Schema; ``None`` leaves the field out (or to the model's own default).
    """

    name: str
    kind: Kind
    description: str
    required: bool = False
    default: Any = None


@dataclass
class Loaded:
    """A checked mapping, before it becomes a model value."""

    where: Where
    """The mapping itself."""
    values: dict[str, Any] = field(default_factory=dict)
    """Fields whose values passed their checks (converted), and the defaults of fields not written."""
    places: dict[str, Where] = field(default_factory=dict)
    """Every known field that was written, valid or not, in the order written."""


class Rule(ABC):
    """A constraint between the fields of one mapping."""

    @abstractmethod
    def check(self, loaded: Loaded, ctx: Context) -> None:
        """Report to ``ctx`` where ``loaded`` breaks the rule."""

    @abstractmethod
    def schema(self) -> dict[str, Any] | None:
        """The rule as JSON Schema (applied to the mapping); ``None`` where JSON Schema cannot say it."""


@dataclass(frozen=True)
class AtMostOne(Rule):
    """At most one of ``names`` may be written; each one after the first is a problem."""

    names: tuple[str, ...]

    def check(self, loaded: Loaded, ctx: Context) -> None:
        written = [name for name in loaded.places if name in self.names]
        listed = f"{', '.join(self.names[:-1])} and {self.names[-1]}"
        for name in written[1:]:
            ctx.report(loaded.places[name], f"use only one of {listed}")

    def schema(self) -> dict[str, Any]:
        return {"not": {"anyOf": [{"required": list(pair)} for pair in combinations(self.names, 2)]}}


@dataclass(frozen=True)
class AtLeastOne(Rule):
    """At least one of ``names`` must be written (the mapping's place is the problem's)."""

    names: tuple[str, ...]

    def check(self, loaded: Loaded, ctx: Context) -> None:
        if not any(name in loaded.places for name in self.names):
            ctx.report(loaded.where, f"give {' or '.join(self.names)}")

    def schema(self) -> dict[str, Any]:
        return {"anyOf": [{"required": [name]} for name in self.names]}


@dataclass(frozen=True)
class RequiredUnless(Rule):
    """``name`` is required unless ``other`` is written; ``reason`` says so in the message."""

    name: str
    other: str
    reason: str

    def check(self, loaded: Loaded, ctx: Context) -> None:
        if self.name not in loaded.places and self.other not in loaded.places:
            where = replace(loaded.where, path=join_path(loaded.where.path, self.name))
            ctx.report(where, f"required field is missing ({self.reason})")

    def schema(self) -> dict[str, Any]:
        return {"anyOf": [{"required": [self.name]}, {"required": [self.other]}]}


@dataclass(frozen=True)
class Mapping(Kind):
    """A mapping with a fixed set of fields; anything else in it is a problem.

    Without ``build`` it loads as a ``Loaded`` (even with required fields missing, so later checks
    still see what is there). With ``build``, it loads as ``build(loaded)``, or as ``INVALID`` when
    a required field is missing or any field is invalid. ``expected`` names it in "expected X, got Y" messages.
    """

    fields: tuple[Field, ...]
    build: Callable[[Loaded], Any] | None = None
    rules: tuple[Rule, ...] = ()
    expected: str = "a mapping"

    def field_named(self, name: str) -> Field | None:
        """The field called ``name``, if the mapping has one."""
        return next((f for f in self.fields if f.name == name), None)

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        if not isinstance(node, yaml.MappingNode):
            return ctx.reject(node, path, f"expected {self.expected}, got {describe(node, ctx)}")
        loaded = Loaded(ctx.where(node, path))
        first_lines: dict[str, int] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                ctx.reject(key, path, f"expected a field name, got {describe(key, ctx)}")
                continue
            name, field_path = key.value, join_path(path, key.value)
            if name in first_lines:
                ctx.reject(key, field_path, f"duplicate field; it is already set on line {first_lines[name]}")
                continue
            first_lines[name] = key.start_mark.line + 1
            known = self.field_named(name)
            if known is None:
                ctx.reject(key, field_path, self._unknown(name))
                continue
            loaded.places[name] = ctx.where(value, field_path)
            result = known.kind.load(value, field_path, ctx)
            if result is not INVALID:
                loaded.values[name] = result
        return self.finish(loaded, ctx)

    def finish(self, loaded: Loaded, ctx: Context) -> Any:
        """Report missing fields, fill in defaults, apply the rules, and build."""
        for f in self.fields:
            if f.name in loaded.places:
                continue
            inherited = ctx.inherited_value(join_path(loaded.where.path, f.name))
            if f.required:
                where = replace(loaded.where, path=join_path(loaded.where.path, f.name))
                ctx.report(where, "required field is missing")
            elif inherited is not MISSING:
                loaded.values[f.name] = inherited
            elif f.default is not None:
                loaded.values[f.name] = f.default
        for rule in self.rules:
            rule.check(loaded, ctx)
        if self.build is None:
            return loaded
        if any(f.name not in loaded.values for f in self.fields if f.required or f.name in loaded.places):
            return INVALID  # missing or invalid: the problem is reported, and there is nothing to build
        return self.build(loaded)

    def _unknown(self, name: str) -> str:
        names = [f.name for f in self.fields]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        if close:
            return f"unknown field; did you mean '{close[0]}'?"
        return f"unknown field; expected one of: {', '.join(names)}"

    def schema(self) -> dict[str, Any]:
        properties = {}
        for f in self.fields:
            properties[f.name] = {**f.kind.schema(), "description": f.description}
            if f.default is not None:
                properties[f.name]["default"] = f.default
        schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        required = [f.name for f in self.fields if f.required]
        if required:
            schema["required"] = required
        rules = [found for rule in self.rules if (found := rule.schema())]
        if rules:
            schema["allOf"] = rules
        return schema


def into(model: Callable[..., Any]) -> Callable[[Loaded], Any]:
    """A ``Mapping.build`` that passes the mapping's values to ``model`` as keyword arguments."""
    return lambda loaded: model(**loaded.values)


@dataclass(frozen=True)
class ListOf(Kind):
    """A list of at least ``min_items`` of ``item``; ``noun`` names an item in messages (``a list
    of steps``). With ``unique``, no item may be listed twice.

    Items that fail their checks are left out of the result (their problems are reported).
    """

    item: Kind
    noun: str
    min_items: int = 1
    unique: bool = False

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        if not isinstance(node, yaml.SequenceNode):
            return ctx.reject(node, path, f"expected a list of {self.noun}s, got {describe(node, ctx)}")
        if len(node.value) < self.min_items:
            least = f"one {self.noun}" if self.min_items == 1 else f"{self.min_items} {self.noun}s"
            return ctx.reject(node, path, f"needs at least {least}")
        items = []
        for i, child in enumerate(node.value):
            item = self.item.load(child, f"{path}[{i}]", ctx)
            if self.unique and item is not INVALID and item in items:
                written = child.value if isinstance(child, yaml.ScalarNode) else str(item)
                ctx.reject(child, f"{path}[{i}]", f"{quote(written)} is listed twice")
                continue
            items.append(item)
        return [item for item in items if item is not INVALID]

    def schema(self) -> dict[str, Any]:
        schema = {"type": "array", "items": self.item.schema(), "minItems": self.min_items}
        if self.unique:
            schema["uniqueItems"] = True
        return schema


@dataclass(frozen=True)
class Form:
    """One shape a value may take: ``kind`` reads the nodes that ``matches`` accepts."""

    matches: Callable[[yaml.Node], bool]
    kind: Kind


@dataclass(frozen=True)
class OneOf(Kind):
    """A value with several forms, told apart by the node's shape (the first form that matches).

    ``expected`` names all the forms in the message for a node that matches none.
    """

    expected: str
    forms: tuple[Form, ...]

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        for form in self.forms:
            if form.matches(node):
                return form.kind.load(node, path, ctx)
        return ctx.reject(node, path, f"expected {self.expected}, got {describe(node, ctx)}")

    def schema(self) -> dict[str, Any]:
        return {"oneOf": [form.kind.schema() for form in self.forms]}


@dataclass(frozen=True)
class Shorthand(Kind):
    """A scalar that stands for a mapping with one field: ``intro: Hi`` is ``intro: {say: Hi}``."""

    mapping: Mapping
    name: str

    def _field(self) -> Field:
        shorthand_for = self.mapping.field_named(self.name)
        assert shorthand_for is not None, f"the mapping has no field {self.name!r}"
        return shorthand_for

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        value = self._field().kind.load(node, path, ctx)
        if value is INVALID:
            return value
        where = ctx.where(node, path)
        return self.mapping.finish(Loaded(where, {self.name: value}, {self.name: where}), ctx)

    def schema(self) -> dict[str, Any]:
        return self._field().kind.schema()


def is_scalar(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode)


def is_mapping(node: yaml.Node) -> bool:
    return isinstance(node, yaml.MappingNode)


def has_field(name: str) -> Callable[[yaml.Node], bool]:
    """A test for mappings that have a field called ``name``."""
    return lambda node: is_mapping(node) and any(
        is_scalar(key) and key.value == name for key, _ in node.value
    )


