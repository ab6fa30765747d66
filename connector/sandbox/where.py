"""Mixpanel's segmentation expressions (`properties["plan"] == "pro" and ...`), evaluated."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

Predicate = Callable[[Mapping[str, Any]], bool]
Value = Callable[[Mapping[str, Any]], Any]

_TOKEN = re.compile(
    r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<number>-?\d+(?:\.\d+)?)"""
    r"""|(?P<op>==|!=|>=|<=|>|<|\(|\)|\[|\])|(?P<word>[A-Za-z_$][\w$]*))"""
)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
}


SUPPORTED = (
    'properties["name"], strings, numbers, true/false/null, ==, !=, >, <, >=, <=, defined(), '
    "and, or, not, parentheses"
)


#: The deepest nesting of parentheses and `defined(...)` an expression may use.
MAX_NESTING = 32


class WhereError(ValueError):
    """The expression cannot be parsed; the message says where and what is supported."""


def parse_where(text: str) -> Predicate:
    """Compile an expression into a predicate over a properties mapping."""
    tokens = _tokenize(text)
    parser = _Parser(tokens, text)
    value = parser.expression()
    if parser.pos != len(tokens):
        raise WhereError(f"unexpected {tokens[parser.pos][1]!r} in where expression {text!r}")
    return lambda props: bool(_safe(value, props))


def _safe(value: Value, props: Mapping[str, Any]) -> Any:
    try:
        return value(props)
    except TypeError:  # comparing a number with a string: no match, as in Mixpanel
        return False


def _any(parts: list[Value]) -> Value:
    return lambda p: any(bool(_safe(part, p)) for part in parts)


def _all(parts: list[Value]) -> Value:
    return lambda p: all(bool(_safe(part, p)) for part in parts)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos, end = 0, len(text.rstrip())
    while pos < end:
        match = _TOKEN.match(text, pos)
        if not match:
            at = len(text) - len(text[pos:].lstrip())
            raise WhereError(
                f"cannot read where expression at character {at}: {text[at : at + 20]!r}; "
                f"the sandbox supports {SUPPORTED}"
            )
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], text: str) -> None:
        self.tokens, self.text, self.pos = tokens, text, 0
        self.nesting = 0

    def _enter(self) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise WhereError(
                f"where expression nests parentheses deeper than {MAX_NESTING} levels "
                f"(at token {self.pos})"
            )

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise WhereError(f"where expression {self.text!r} ends too early")
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise WhereError(f"expected {expected!r} but found {token[1]!r} in {self.text!r}")
        self.pos += 1
        return token

    def expression(self) -> Value:
        # A chain of `or`s (and of `and`s) is one flat list, so evaluating it never recurses.
        parts = [self._and()]
        while self._peek() == "or":
            self._take()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else _any(parts)

    def _and(self) -> Value:
        parts = [self._not()]
        while self._peek() == "and":
            self._take()
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else _all(parts)

    def _not(self) -> Value:
        negations = 0
        while self._peek() == "not":
            self._take()
            negations += 1
        inner = self._compare()
        if negations % 2:
            return lambda p: not _safe(inner, p)
        return (lambda p: bool(_safe(inner, p))) if negations else inner

    def _compare(self) -> Value:
        left = self._atom()
        op = self._peek()
        if op in _COMPARE:
            self._take()
            right, compare = self._atom(), _COMPARE[str(op)]

            def check(p: Mapping[str, Any]) -> bool:
                a, b = left(p), right(p)
                if op == "!=":
                    return bool(a != b)
                return a is not None and b is not None and compare(a, b)

            return check
        return left

    def _atom(self) -> Value:
        kind, text = self._take()
        if kind == "string":
            literal = json.loads('"' + text[1:-1].replace('\\"', '"').replace('"', '\\"') + '"')
            return lambda p: literal
        if kind == "number":
            number = float(text) if "." in text else int(text)
            return lambda p: number
        if text == "(":
            self._enter()
            inner = self.expression()
            self._take(")")
            self.nesting -= 1
            return inner
        if text in ("properties", "user", "event"):
            self._take("[")
            key_kind, key = self._take()
            if key_kind != "string":
                raise WhereError(f"{text}[...] needs a quoted property name in {self.text!r}")
            self._take("]")
            name = key[1:-1]
            return lambda p: p.get(name)
        if text == "defined":
            self._take("(")
            self._enter()
            inner = self._atom()
            self._take(")")
            self.nesting -= 1
            return lambda p: inner(p) is not None
        if text in ("true", "false", "null"):
            constant = {"true": True, "false": False, "null": None}[text]
            return lambda p: constant
        raise WhereError(
            f"unsupported {text!r} in where expression {self.text!r}; the sandbox supports "
            + SUPPORTED
        )
