"""Man pages of the console scripts that are not euca2ools commands.

``eucalyptus-cloud`` (a click command), ``euca-sim`` and ``euca-tui`` (argparse parsers
returned by their module's ``build_parser()``) get a section-1 page each, made from their
own command-line definitions by :mod:`euca2ools.generate`, so every script
``pyproject.toml`` installs has a man page that cannot drift from its options.
"""

from __future__ import annotations

import argparse
import importlib
import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: The entry point every euca2ools command shares (those pages come from declarations).
EUCA2OOLS_ENTRY = "euca2ools.main:main"


def _esc(text: str) -> str:
    """Escape text for troff (backslashes, hyphens, leading dots and quotes)."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line
                     for line in text.split("\n"))


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs as troff ``.PP`` blocks (lines joined)."""
    out: list[str] = []
    for para in text.strip().split("\n\n"):
        lines = [line.strip() for line in para.strip().splitlines() if line.strip() != "\b"]
        if lines:
            out += [".PP", _esc(" ".join(lines))]
    return out[1:] if out else out  # the first paragraph follows the section head directly


def _pyproject() -> dict[str, Any]:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        return tomllib.load(handle)


def program_scripts() -> dict[str, str]:
    """Console script name -> ``module:function`` for every script that is not a euca2ools
    command."""
    scripts = _pyproject()["project"]["scripts"]
    return {name: target for name, target in sorted(scripts.items())
            if target != EUCA2OOLS_ENTRY}


def _header(name: str, summary: str) -> list[str]:
    version = _pyproject()["project"]["version"]
    return [f'.TH {_esc(name.upper())} "1" "" "eucalyptus-py {version}" "User Commands"',
            ".ad l", ".nh", ".SH NAME", f"{_esc(name)} \\- {_esc(summary)}"]


@contextmanager
def _wide_terminal() -> Iterator[None]:
    """argparse wraps usage to the terminal: make it one line, whatever runs the generator."""
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "10000"
    try:
        yield
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved


# -- argparse ------------------------------------------------------------------------------
def _argparse_term(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"\\fI{_esc(str(action.metavar or action.dest))}\\fR"
    term = ", ".join(f"\\fB{_esc(s)}\\fR" for s in action.option_strings)
    if action.nargs != 0:
        meta = action.metavar or (action.dest.upper() if action.dest else "VALUE")
        term += f" \\fI{_esc(str(meta))}\\fR"
    return term


def _argparse_options(parser: argparse.ArgumentParser) -> list[str]:
    out: list[str] = []
    for action in parser._actions:  # the parser's declared arguments, in order
        if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
            continue
        help_text = (action.help or "") % {"default": action.default, "prog": parser.prog}
        out += [".TP", _argparse_term(action), _esc(help_text)]
    return out


def _usage(parser: argparse.ArgumentParser) -> str:
    with _wide_terminal():
        usage = parser.format_usage().strip()
    return usage.removeprefix("usage:").strip().removeprefix(parser.prog).strip()


def argparse_page(name: str, parser: argparse.ArgumentParser) -> str:
    """The man page of an argparse program, with a subsection per sub-command."""
    description = parser.description or name
    out = _header(name, description.split(". ")[0].split(":")[0].rstrip("."))
    out += [".SH SYNOPSIS", f".B {_esc(name)}", _esc(_usage(parser)),
            ".SH DESCRIPTION", *_paragraphs(description)]
    if parser.epilog:
        out += [".PP", _esc(" ".join(parser.epilog.split()))]
    out += [".SH OPTIONS", *_argparse_options(parser)]
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if subs:
        out.append(".SH COMMANDS")
        helps = {c.dest: c.help or "" for c in subs[0]._choices_actions}
        for sub_name, sub in subs[0].choices.items():
            out += [f'.SS "{_esc(sub_name)}"', ".nf", f"\\fB{_esc(name)} {_esc(sub_name)}\\fR "
                    f"{_esc(_usage(sub))}", ".fi", _esc(helps.get(sub_name, "")),
                    *_argparse_options(sub)]
    return "\n".join(out) + "\n"


# -- click ---------------------------------------------------------------------------------
def click_page(name: str, command: Any) -> str:
    """The man page of a click command."""
    import click

    ctx = click.Context(command, info_name=name, **command.context_settings)
    help_text = command.help or name
    out = _header(name, help_text.strip().splitlines()[0].rstrip("."))
    out += [".SH SYNOPSIS", f".B {_esc(name)}",
            _esc(" ".join(command.collect_usage_pieces(ctx))),
            ".SH DESCRIPTION", *_paragraphs(help_text), ".SH OPTIONS"]
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        term, text = record
        out += [".TP", f"\\fB{_esc(term)}\\fR", _esc(text)]
    return "\n".join(out) + "\n"


def program_page(name: str, target: str) -> str:
    """The man page of one console script, from its command-line definition."""
    import click

    module_name, _, function = target.partition(":")
    module = importlib.import_module(module_name)
    entry = getattr(module, function)
    if isinstance(entry, click.Command):
        return click_page(name, entry)
    build = getattr(module, "build_parser", None)
    if build is None:
        raise LookupError(f"{target}: neither a click command nor a module with build_parser()")
    return argparse_page(name, build())


def program_pages() -> dict[str, str]:
    """``man/<script>.1`` -> page, for every script that is not a euca2ools command."""
    return {f"man/{name}.1": program_page(name, target)
            for name, target in program_scripts().items()}
