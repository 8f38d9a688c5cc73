"""Running a declared command: argument routing, filters, the call, output, errors.

Shared by the click path (:mod:`euca2ools.cli`) and the fast path
(:mod:`euca2ools.fastpath`); only the standard library is imported at module level.
Exit statuses are decided here and nowhere else: 0 ok, 1 service or runtime error,
2 usage error -- including a local file the user named (on the command line or in the
configuration) that does not exist or cannot be read (``-f KEYFILE``,
``--user-data-file``, ``-i IMAGE``, ``-k KEY``...), in every command.
"""

from __future__ import annotations

import os
import sys

from .exceptions import ArgumentError, ConfigError, Euca2oolsError, ServiceError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover - typing only; importing typing costs start-up time
    from collections.abc import Iterator
    from typing import Any

    from .client import Session
    from .decl import Command

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
#: errno values of a named file that is missing or unreadable: a usage error (exit 2).
_UNREADABLE = frozenset({2, 13, 20, 21})  # ENOENT, EACCES, ENOTDIR, EISDIR


class Invocation:
    """One run of a command: parsed arguments, request parameters and output."""

    def __init__(self, command: Command, prog: str, args: dict[str, Any], session_factory: Any) -> None:
        self.command = command
        self.prog = prog
        self.args = args
        self.params: dict[str, Any] = {}
        self._session_factory = session_factory
        self._session: Session | None = None
        self.show_empty = bool(args.get("show_empty_fields"))
        self.lines: list[str] = []

    @property
    def session(self) -> Session:
        """The configured session (built on first use so local commands need no config)."""
        if self._session is None:
            a = self.args
            self._session = self._session_factory(
                region=a.get("region"),
                url=a.get("url"),
                service=self.command.service,
                access_key_id=a.get("access_key_id"),
                secret_key=a.get("secret_key"),
                security_token=a.get("security_token"),
            )
            self._session.debug = bool(a.get("debug"))
        return self._session

    def call(self, action: str, params: dict[str, Any] | None = None, service: str | None = None) -> Any:
        """Send one request to the command's service (or ``service``)."""
        return self.session.call(service or self.command.service, action, params or {})

    def pages(self, action: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        """Every page of a ``NextToken``-paged action, in order (``params`` default to the
        command's own)."""
        params = dict(self.params if params is None else params)
        while True:
            result = self.call(action, params)
            yield result
            token = result.get("NextToken")
            if not token:
                return
            params["NextToken"] = token

    def emit(self, *fields: Any) -> None:
        """Print one tab-separated record (falsy fields keep their column)."""
        self.lines.append(tabify(fields, self.show_empty))

    def echo(self, text: str) -> None:
        """Print a line as is."""
        self.lines.append(text)

    def flush(self) -> None:
        """Write the buffered output to stdout."""
        if self.lines:
            sys.stdout.write("\n".join(self.lines) + "\n")
            self.lines = []
        sys.stdout.flush()


def tabify(fields: Any, show_empty: bool = False) -> str:
    """Join fields with TABs; None/''/False/[] print as '' (or '(nil)'), 0 stays '0'."""
    empty = "(nil)" if show_empty else ""
    out = []
    for field in fields:
        if field is None or field is False or (not field and field != 0):
            out.append(empty)
        else:
            out.append(str(field))
    return "\t".join(out)


def parse_filters(specs: list[str] | tuple[str, ...], allowed: tuple[str, ...] | None) -> list[dict[str, Any]]:
    """``NAME=VALUE`` strings as ``Filter`` params; repeated names merge their values."""
    merged: dict[str, list[str]] = {}
    for spec in specs:
        if "=" not in spec:
            raise ArgumentError(f"filter '{spec}' must have format 'NAME=VALUE'")
        name, _, value = spec.partition("=")
        if allowed is not None and name not in allowed and not name.startswith("tag:"):
            raise ArgumentError(
                f"unrecognized filter name: '{name}' (allowed names: {', '.join(allowed)}, tag:KEY)"
            )
        merged.setdefault(name, []).append(value)
    return [{"Name": name, "Value": values} for name, values in merged.items()]


def convert(arg: Any, value: Any) -> Any:
    """``value`` (or each of a list) through the argument's type, as argparse does: a bad
    value is an :class:`ArgumentError` naming the option (``argument -s/--size: invalid int
    value: '1.5'``), never Python's own message."""
    def one(text: str) -> Any:
        try:
            return arg.type(text)
        except (ValueError, TypeError) as err:
            name = "/".join(arg.flags) if not arg.positional else (arg.metavar or arg.key)
            if arg.type in (int, float):
                raise ArgumentError(
                    f"argument {name}: invalid {arg.type.__name__} value: '{text}'") from None
            raise ArgumentError(f"argument {name}: {err}") from None

    return [one(v) for v in value] if isinstance(value, list) else one(value)


def route_args(inv: Invocation, extra: list[Any]) -> None:
    """Copy arguments whose ``dest`` is a wire parameter into the request params."""
    cmd = inv.command
    for group in cmd.groups():
        given = [a for a in group.args if _given(inv.args.get(a.key))]
        names = "/".join(a.flags[-1] for a in group.args)
        if len(given) > 1:
            raise ArgumentError(
                f"argument {given[1].flags[-1]}: not allowed with argument {given[0].flags[-1]}"
            )
        if group.required and not given:
            raise ArgumentError(f"one of the arguments {names} is required")
    for arg in cmd.iter_args():
        if arg.required and not arg.positional and not _given(inv.args.get(arg.key)):
            raise ArgumentError(f"argument {'/'.join(arg.flags)} is required")
    for arg in list(cmd.iter_args()) + extra:
        value = inv.args.get(arg.key)
        if arg.dest is None or not _given(value):
            continue
        if arg.flag:
            value = True
        elif value == "":
            # Typed as empty (``-t ''``): sent as such, for the service to judge (AWS answers
            # InvalidParameterValue) rather than dropped into a silent default.
            from .client import EMPTY

            value = EMPTY
        inv.params[arg.dest] = value
    if cmd.filters is not None and inv.args.get("filter"):
        inv.params["Filter"] = parse_filters(inv.args["filter"], cmd.filters)


def _given(value: Any) -> bool:
    return value is not None and value is not False and value != [] and value != ()


def execute(inv: Invocation, extra: list[Any]) -> None:
    """Route, call and print: the whole life of a command after argument parsing."""
    cmd = inv.command
    route_args(inv, extra)
    if cmd.prepare is not None:
        cmd.prepare(inv)
    if cmd.run is not None:
        cmd.run(inv)
    else:
        assert cmd.action is not None
        result = inv.call(cmd.action, inv.params)
        if cmd.output is not None:
            cmd.output(inv, result)
    inv.flush()


def debug_requested(argv: list[str]) -> bool:
    """Whether tracebacks are wanted (``--debug``/``--debugger``)."""
    return "--debug" in argv or "--debugger" in argv


def report(prog: str, err: BaseException, debug: bool) -> int:
    """Print an error the euca2ools way and return the exit status."""
    if debug:
        import traceback

        traceback.print_exception(err)
    if isinstance(err, ServiceError):
        sys.stderr.write(f"{prog}: error ({err.code}): {err.message}\n")
        return EXIT_ERROR
    if isinstance(err, ArgumentError):
        sys.stderr.write(f"{prog}: error: {err}\n")
        return EXIT_USAGE
    if isinstance(err, (ConfigError, Euca2oolsError)):
        sys.stderr.write(f"{prog}: error: {err}\n")
        return EXIT_ERROR
    if isinstance(err, OSError) and err.strerror:
        where = f": {err.filename}" if err.filename else ""
        sys.stderr.write(f"{prog}: error: {err.strerror}{where}\n")
        return EXIT_USAGE if err.filename and err.errno in _UNREADABLE else EXIT_ERROR
    if isinstance(err, KeyboardInterrupt):
        return 130
    text = str(err.args[0]) if err.args else type(err).__name__
    sys.stderr.write(f"{prog}: error: {text}\n")
    return EXIT_ERROR


def quiet_broken_pipe() -> None:
    """Stop quietly when stdout is closed early (``euca-describe-instances | head``)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
