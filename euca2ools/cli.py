"""The click face of a declaration: builds a ``click.Command`` and runs it.

This is the complete path (help, usage errors, every option); the fast path in
:mod:`euca2ools.fastpath` hands over to it whenever it is not sure.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from . import VERSION_STRING
from .decl import Arg, Command, global_args, help_flags
from .exceptions import ArgumentError
from .runtime import (
    EXIT_USAGE,
    Invocation,
    convert,
    debug_requested,
    execute,
    quiet_broken_pipe,
    report,
)


def make_session(**kwargs: Any) -> Any:
    """A :class:`~euca2ools.client.Session` for an invocation's global options."""
    from .client import Session

    service = kwargs.pop("service")
    url = kwargs.pop("url")
    session = Session.from_config(kwargs.pop("region"), **kwargs)
    if url:
        session._urls[service] = url
    return session


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(version_text())
        ctx.exit(0)


def version_text() -> str:
    """``euca2ools 3.4 (Newton)`` plus the Eucalyptus version when installed."""
    text = VERSION_STRING
    try:
        with open("/etc/eucalyptus/eucalyptus-version", encoding="utf-8") as handle:
            text += "\neucalyptus " + handle.read().strip()
    except OSError:
        pass
    return text


def _click_param(arg: Arg, index: int) -> click.Parameter:
    """The click parameter for one declared argument (named ``p<index>`` internally)."""
    pname = f"p{index}"
    ptype: Any = click.Choice(arg.choices) if arg.choices else None
    if arg.positional:
        many = arg.nargs in ("*", "+")
        return click.Argument(
            [pname],
            nargs=-1 if many else 1,
            required=arg.required,
            metavar=arg.usage(),
            type=ptype,
        )
    if arg.key == "version":
        return click.Option(list(arg.flags) + [pname], is_flag=True, expose_value=False,
                            is_eager=True, callback=_version, help=arg.help)
    if arg.flag:
        return click.Option(list(arg.flags) + [pname], is_flag=True, default=False,
                            help=arg.help, hidden=arg.hidden)
    return click.Option(
        list(arg.flags) + [pname],
        multiple=arg.multiple,
        required=arg.required,
        metavar=arg.metavar or arg.key.upper(),
        type=ptype,
        help=arg.help,
        hidden=arg.hidden,
    )


def build(command: Command, prog: str) -> tuple[click.Command, list[Arg]]:
    """The click command for a declaration, and its global arguments."""
    extra = global_args(command)
    args = list(command.iter_args()) + extra
    params = [_click_param(arg, i) for i, arg in enumerate(args)]

    def callback(**values: Any) -> None:
        parsed: dict[str, Any] = {}
        for i, arg in enumerate(args):
            value = values.get(f"p{i}")
            if arg.positional and arg.nargs in ("*", "+"):
                value = list(value or [])
            elif arg.multiple:
                value = list(value or [])
            if value is not None and arg.type is not None and not arg.flag:
                try:
                    value = convert(arg, value)
                except ArgumentError as err:
                    raise click.UsageError(str(err)) from None
            if value is None and arg.default is not None:
                value = arg.default
            parsed[arg.key] = value
        inv = Invocation(command, prog, parsed, make_session)
        execute(inv, extra)

    epilog = ""
    if command.filters:
        epilog = "allowed filter names: " + ", ".join(command.filters) + ", tag:KEY"
    help_text = command.summary
    if command.description:
        help_text += "\n\n" + command.description
    cmd = click.Command(
        prog,
        params=params,
        callback=callback,
        help=help_text,
        epilog=epilog,
        context_settings={"help_option_names": list(help_flags(command)),
                          "max_content_width": 100},
        no_args_is_help=False,
    )
    return cmd, extra


def run(command: Command, prog: str, argv: list[str]) -> int:
    """Parse ``argv`` with click and run the command; returns the exit status."""
    debug = debug_requested(argv)
    try:
        cmd, _extra = build(command, prog)
        cmd.main(args=argv, prog_name=prog, standalone_mode=False)
        return 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        # argparse style, as euca2ools prints it: usage, then "PROG: error: MESSAGE".
        if exc.ctx is not None:
            sys.stderr.write(exc.ctx.get_usage() + "\n")
        sys.stderr.write(f"{prog}: error: {exc.format_message()}\n")
        return EXIT_USAGE
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        return 1
    except BrokenPipeError:
        quiet_broken_pipe()
        return 1
    except (Exception, KeyboardInterrupt) as exc:  # every error ends as one line, never a traceback
        if not debug:
            try:
                from .config import Config, debug_enabled

                debug = debug_enabled(Config())
            except Exception:
                debug = False
        return report(prog, exc, debug)
