"""The command's argument parser: every subcommand and option, each with its help text.

The global options (-v/--verbose, --specs) are accepted before and after the subcommand.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from ..catalog.layers import SPECS_ENV
from ..catalog.widening import OPT_IN_FLAG
from ..core.formats import FORMATS
from ..core.values import closest
from ..plugins import plugin_names, plugin_summary
from .exits import EXIT_CODES_HELP
from .sync import add_sync

PROG = "mixpanel-connector"
VERBOSE_HELP = "log each request, retry and wait to stderr (global: before or after the command)"
SPECS_HELP = (
    "an overlay folder laid out like specs/ (repeatable; global: before or after the command; "
    f"default: ${SPECS_ENV}, a path-separator list)"
)
#: Options that precede the command: (flags, takes a value).
GLOBAL_FLAGS = {"-v": False, "--verbose": False, "--specs": True}


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose "invalid choice" error names the nearest choice."""

    def error(self, message: str) -> NoReturn:
        """Exit 2 with `message`, plus "did you mean" for a mistyped command or choice."""
        found = re.search(r"invalid choice: '?([^'(]*?)'? \(choose from (.*)\)", message)
        if found:
            choices = [c.strip().strip("'\"") for c in found.group(2).split(",")]
            near = closest(found.group(1), choices)
            if near:
                message += f"; did you mean {near[0]!r}?"
        super().error(message)


def _globals(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """-v and --specs; on a subcommand they must not reset what was given before it."""
    default: dict[str, Any] = {} if top else {"default": argparse.SUPPRESS}
    parser.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP, **default)
    parser.add_argument(
        "--specs",
        action="append",
        type=Path,
        metavar="DIR",
        dest="specs" if not top else "global_specs",
        help=SPECS_HELP,
        **default,
    )


def _plugin_help(name: str, describe: bool) -> str:
    """The plugin's own one-line description (importing it: only when help is shown)."""
    if not describe:
        return f"the {name} plugin's command"
    try:
        return plugin_summary(name) or f"the {name} plugin's command"
    except Exception:  # a broken plugin must not break --help
        return f"the {name} plugin's command (it cannot be loaded)"


def build_parser(*, describe_plugins: bool = False) -> argparse.ArgumentParser:
    """The whole parser; plugins' commands are listed (they parse their own arguments).

    `describe_plugins` imports each plugin for its one-line description, for --help.
    """
    parser = _Parser(
        prog=PROG,
        description="Run the actions and data sources declared in YAML specs: list and "
        "describe them, run one, check the specs, print the manifest or the reference.",
        epilog=EXIT_CODES_HELP,
    )
    _globals(parser, top=True)
    common = argparse.ArgumentParser(add_help=False)
    _globals(common, top=False)
    common.add_argument(
        OPT_IN_FLAG,
        action="store_true",
        help="accept overlays that add trusted hosts, let a request send credentials to any host "
        "or render a connection secret outside an auth scheme (describe and --dry-run list them)",
    )
    sub = _Subparsers(
        parser.add_subparsers(dest="command", required=True, metavar="COMMAND"), common
    )
    sub.add_parser("list", help="list actions and data sources: kind, key, label, spec file")
    describe = sub.add_parser("describe", help="show one action or data source")
    describe.add_argument("key", metavar="KEY", help="the action's or data source's key")
    describe.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    _add_run(sub)
    add_sync(sub)
    validate = sub.add_parser("validate", help="check every spec file, shipped and overlays")
    validate.add_argument(
        "--print-schema-path",
        action="store_true",
        help="print the folder of the specs' JSON schemas (for editors) and exit",
    )
    manifest_cmd = sub.add_parser("manifest", help="print the whole component as JSON")
    manifest_cmd.add_argument(
        "--schema", action="store_true", help="print the manifest's JSON Schema instead"
    )
    docs = sub.add_parser("docs", help="generate the Markdown reference of the loaded specs")
    docs.add_argument("--out", type=Path, metavar="DIR", help="write DIR/reference.md")
    docs.add_argument(
        "--check", action="store_true", help="with --out: exit 1 if DIR/reference.md differs"
    )
    for name in plugin_names():
        sub.add_parser(name, add_help=False, help=_plugin_help(name, describe_plugins))
    return parser


def _add_run(sub: _Subparsers) -> None:
    """The `run` command and its options."""
    run = sub.add_parser(
        "run",
        help="run an action (or fetch a data source) and print its result as JSON",
        description="Run one action, or fetch one data source's picklist, and print the "
        "result as JSON on stdout. Credentials come from --connection or the environment.",
        epilog=EXIT_CODES_HELP,
    )
    run.add_argument(
        "key",
        metavar="KEY",
        help="the action or data source to run (`mixpanel-connector list` shows every key)",
    )
    run.add_argument(
        "--input",
        "-i",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="one input, as a form sends it: text, numbers and booleans as text, JSON inputs "
        "as JSON text (repeatable; wins over --inputs; `describe KEY` lists the inputs)",
    )
    run.add_argument("--inputs", metavar="FILE", help="a JSON (.json) or YAML file of inputs")
    run.add_argument(
        "--connection",
        metavar="FILE",
        help="a JSON (.json) or YAML file of connection fields (default: the environment "
        "variable each connection field names with `env:`)",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="print the requests, secrets masked, and send nothing; works without "
        "credentials (placeholders show where they would go); with --input-file, a sample "
        "(the first 3 requests, 3 records each) and the counts",
    )
    run.add_argument(
        "--dry-run-all",
        action="store_true",
        help="with --dry-run and --input-file: print every request in full",
    )
    run.add_argument(
        "--base-url", metavar="URL", help="send requests to this scheme and host instead"
    )
    run.add_argument(
        "--output",
        "-o",
        metavar="PATH",
        help="stream the records to PATH as JSON lines (.gz: gzip; -: stdout) and print a "
        "one-line JSON summary",
    )
    run.add_argument(
        "--sandbox", action="store_true", help="run against the local sandbox, not the real API"
    )
    run.add_argument(
        "--budgets",
        metavar="URL",
        help="where rate budgets live: sqlite:///PATH, redis://HOST:PORT/DB or memory",
    )
    run.add_argument(
        "--input-file",
        action="append",
        default=[],
        metavar="KEY=PATH",
        help="stream the records of input KEY from PATH: a JSON array, JSON lines, CSV, TSV or "
        "Parquet (.gz read as gzip; -: stdin; s3://, gs://... through fsspec), never loaded "
        "whole; a progress bar shows on a terminal",
    )
    run.add_argument(
        "--input-format",
        choices=FORMATS,
        default="auto",
        help="the --input-file's format (default: from its name: .json, .jsonl, .ndjson, .csv, "
        ".tsv, .parquet, each maybe .gz; else JSON or JSON lines, whichever it holds)",
    )
    run.add_argument(
        "--columns",
        metavar="FILE",
        help="a JSON or YAML file typing a CSV or TSV file's columns, `NAME: TYPE` per column "
        "(string, integer, number, boolean, json; undeclared columns are text; a dotted NAME "
        "such as properties.city nests the value)",
    )
    run.add_argument(
        "--rate-wait",
        type=float,
        metavar="SECONDS",
        help="how long to wait for an hourly rate budget that is used up (default: the specs' "
        "waits.long_max_s, 3600; 0 fails at once and says when it frees up); per-second "
        "windows are always waited for, and each wait over a second is announced on stderr",
    )
    run.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no progress: no bar on a terminal, no progress lines elsewhere",
    )
    run.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="a batched action keeps exactly N requests in flight (default: as many as its spec "
        "allows, fewer while the API answers 429)",
    )


class _Subparsers:
    """Adds every subcommand with the options all of them share (-v, --specs)."""

    def __init__(self, action: Any, common: argparse.ArgumentParser) -> None:
        self.action, self.common = action, common

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        if "description" not in kwargs and kwargs.get("help"):
            kwargs["description"] = str(kwargs["help"])[:1].upper() + str(kwargs["help"])[1:]
        parser: argparse.ArgumentParser = self.action.add_parser(
            name, parents=[self.common], **kwargs
        )
        return parser


def split_plugin_command(argv: Sequence[str]) -> tuple[list[str], str, list[str]] | None:
    """(global options, plugin name, its arguments) when the command is a plugin's, else None.

    The plugin parses its own arguments; -v/--verbose among them is the global option.
    """
    names = set(plugin_names())
    index = 0
    while index < len(argv):
        token = argv[index]
        flag = token.split("=", 1)[0]
        if flag in GLOBAL_FLAGS:
            index += 2 if GLOBAL_FLAGS[flag] and "=" not in token else 1
            continue
        if token in names:
            rest = list(argv[index + 1 :])
            cut = rest.index("--") if "--" in rest else len(rest)
            verbose = [t for t in rest[:cut] if t in ("-v", "--verbose")]
            kept = [t for t in rest[:cut] if t not in ("-v", "--verbose")] + rest[cut:]
            return [*argv[:index], *verbose], token, kept
        return None
    return None
