"""Command declarations: one :class:`Command` per ``euca-*``/``euare-*`` script.

A declaration names the command, its service and API action, a one-line summary,
its arguments (an :class:`Arg`'s ``dest`` is the wire parameter name, e.g.
``InstanceType`` or ``Placement.AvailabilityZone``; ``dest=None`` marks a client-only
argument), its filters and the printer of its output record.  The click command
(:mod:`euca2ools.cli`), the fast argv parser (:mod:`euca2ools.fastpath`), the man
page and the bash completion (:mod:`euca2ools.generate`) are all made from it.

Only the standard library is imported: declarations load on every start-up.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover - importing typing costs start-up time
    from collections.abc import Callable, Iterator
    from typing import Any

# Completion kinds understood by bash_completion/euca2ools.
COMPLETIONS = ("instance", "image", "volume", "snapshot", "group", "keypair", "zone",
               "instance-type", "address", "file", "region", "user", "loadbalancer",
               "vpc", "subnet", "internet-gateway", "route-table", "network-acl",
               "network-interface")


class Arg:
    """One command-line argument (option or positional)."""

    __slots__ = ("flags", "dest", "key", "help", "metavar", "nargs", "required", "flag",
                 "multiple", "choices", "type", "default", "complete", "positional", "hidden")

    def __init__(
        self,
        *flags: str,
        dest: str | None = None,
        name: str | None = None,
        help: str = "",
        metavar: str | None = None,
        nargs: str | None = None,
        required: bool = False,
        flag: bool = False,
        multiple: bool = False,
        choices: tuple[str, ...] | None = None,
        type: Callable[[str], Any] | None = None,
        default: Any = None,
        complete: str | None = None,
        hidden: bool = False,
    ) -> None:
        self.flags = flags
        self.positional = not flags[0].startswith("-")
        self.dest = dest
        longs = [f for f in flags if f.startswith("--")]
        if name is None:
            if dest is not None:
                name = dest
            elif self.positional:
                name = flags[0].lower().replace("-", "_")
            else:
                name = (longs[0] if longs else flags[0]).lstrip("-").replace("-", "_")
        self.key = name
        self.help = help
        self.metavar = metavar or (flags[0] if self.positional else None)
        self.nargs = nargs
        self.required = required or (self.positional and nargs in (None, "+"))
        self.flag = flag
        self.multiple = multiple
        self.choices = choices
        self.type = type
        self.default = default
        self.complete = complete
        self.hidden = hidden

    @property
    def takes_list(self) -> bool:
        """Whether the parsed value is a list."""
        return self.multiple or self.nargs in ("*", "+")

    def usage(self) -> str:
        """This argument as it appears in a synopsis."""
        if self.positional:
            text = self.metavar or self.key
            if self.nargs in ("*", "+"):
                text += " [" + text + " ...]"
            return text if self.required else f"[{text}]"
        text = self.flags[0]
        if not self.flag:
            text += " " + (self.metavar or self.key.upper())
        return text if self.required else f"[{text}]"


class Group:
    """Mutually exclusive arguments; ``required`` means exactly one must be given."""

    __slots__ = ("args", "required")

    def __init__(self, *args: Arg, required: bool = False) -> None:
        self.args = args
        self.required = required


class Command:
    """The declaration of one command."""

    __slots__ = ("name", "service", "action", "summary", "args", "filters", "output",
                 "prepare", "run", "description", "show_empty", "as_account", "local",
                 "fast", "configured")

    def __init__(
        self,
        name: str,
        service: str,
        action: str | None,
        summary: str,
        args: tuple[Arg | Group, ...] | list[Arg | Group] = (),
        *,
        filters: tuple[str, ...] | list[str] | None = None,
        output: Callable[[Any, Any], None] | None = None,
        prepare: Callable[[Any], None] | None = None,
        run: Callable[[Any], None] | None = None,
        description: str = "",
        show_empty: bool | None = None,
        as_account: bool | None = None,
        fast: bool = True,
        configured: bool = False,
    ) -> None:
        self.name = name
        self.service = service
        self.action = action
        self.summary = summary
        self.args = tuple(args)
        self.filters = tuple(filters) if filters is not None else None
        self.output = output
        self.prepare = prepare
        self.run = run
        self.description = description
        self.local = service == "local"
        # --show-empty-fields: all EC2 commands (TabifyingMixin), not IAM ones.
        self.show_empty = (service == "ec2") if show_empty is None else show_empty
        # --as-account (DelegateAccount): almost every IAM command.
        self.as_account = (service == "iam") if as_account is None else as_account
        self.fast = fast
        # A local command that still reads a region/user's config (keys, certificates).
        self.configured = configured

    def iter_args(self) -> Iterator[Arg]:
        """Every argument, groups flattened, in declaration order."""
        for item in self.args:
            if isinstance(item, Group):
                yield from item.args
            else:
                yield item

    def groups(self) -> Iterator[Group]:
        """The mutually exclusive groups."""
        for item in self.args:
            if isinstance(item, Group):
                yield item


# Options every service command has (reference §2.1), as (flags, key, metavar, help, flag).
def global_args(command: Command) -> list[Arg]:
    """The global options a command gets from its service and auth classes."""
    from .config import SERVICE_DESCRIPTIONS

    out: list[Arg] = []
    if not command.local:
        desc = SERVICE_DESCRIPTIONS.get(command.service, command.service)
        out.append(Arg("-U", "--url", name="url", metavar="URL",
                       help=f"{desc} service endpoint URL"))
    if not command.local or command.configured or \
            command.name == "euca-generate-environment-config":
        out += [
            Arg("--region", name="region", metavar="USER@REGION", complete="region",
                help="region and/or user names to search when looking up config file data"),
            Arg("-I", "--access-key-id", name="access_key_id", metavar="KEY_ID",
                help="access key ID (use with -S)"),
            Arg("-S", "--secret-key", name="secret_key", metavar="KEY",
                help="secret key (use with -I)"),
            Arg("--security-token", name="security_token", metavar="TOKEN",
                help="security token"),
        ]
    if command.as_account:
        out.append(Arg("--as-account", dest="DelegateAccount", metavar="ACCOUNT",
                       help="[Eucalyptus cloud admin only] run this command as the administrator "
                       "of another account"))
    if command.filters is not None:
        out.append(Arg("--filter", name="filter", metavar="NAME=VALUE", multiple=True,
                       help="restrict results to those that meet criteria"))
    if command.show_empty:
        out.append(Arg("--show-empty-fields", name="show_empty_fields", flag=True,
                       help="show empty values as \"(nil)\""))
    out += [
        Arg("--debug", name="debug", flag=True, help="show debugging output"),
        Arg("--debugger", name="debugger", flag=True,
            help="launch interactive debugger on error"),
        Arg("--version", name="version", flag=True, help="show the program's version and exit"),
    ]
    return out


def help_flags(command: Command) -> tuple[str, ...]:
    """``-h/--help`` unless the command uses ``-h`` itself."""
    if any("-h" in arg.flags for arg in command.iter_args()):
        return ("--help",)
    return ("-h", "--help")
