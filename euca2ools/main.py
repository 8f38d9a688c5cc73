"""The entry point of every ``euca-*``/``euare-*`` console script.

It dispatches on ``basename(argv[0])`` and imports only the one module declaring
that command.  Simple invocations then go through :mod:`euca2ools.fastpath`
(standard library only); anything else, including ``--help`` and every usage
error, goes through click (:mod:`euca2ools.cli`).  Keeping click, requests and
ElementTree off the common path is what keeps start-up near a bare interpreter's.
"""

from __future__ import annotations

import os
import sys


def find_command(prog: str):  # type: ignore[no-untyped-def]
    """The declaration of command ``prog`` (None if unknown)."""
    import importlib

    from .commands._index import INDEX

    module_name = INDEX.get(prog)
    if module_name is None:
        return None
    module = importlib.import_module(f"euca2ools.commands.{module_name}")
    for command in module.COMMANDS:
        if command.name == prog:
            return command
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the command named by argv[0] and return its exit status."""
    argv = list(sys.argv if argv is None else argv)
    prog = os.path.basename(argv[0])
    # "euca2ools euca-describe-instances ..." (or python -m euca2ools) also works.
    if prog in ("euca2ools", "__main__.py", "main.py") and len(argv) > 1:
        argv = argv[1:]
        prog = os.path.basename(argv[0])
    command = find_command(prog)
    if command is None:
        sys.stderr.write(f"{prog}: error: unknown euca2ools command\n")
        return 2
    if command.fast and os.environ.get("EUCA2OOLS_NO_FASTPATH") is None:
        from . import fastpath

        status = fastpath.try_run(command, prog, argv[1:])
        if status is not None:
            return status
    from . import cli

    return cli.run(command, prog, argv[1:])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
