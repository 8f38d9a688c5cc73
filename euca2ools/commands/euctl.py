"""``euctl``: show and set cloud properties (the Properties service).

``euctl`` lists every property; ``euctl NAME`` shows one (or every property under a
dotted prefix); ``euctl NAME=VALUE`` sets it (``NAME=@FILE``: the file's contents) and
shows the new value; ``euctl -r NAME`` resets it to its default.  Lines read
``NAME = VALUE`` (``-n``: the value alone; ``-q``: nothing when setting).
"""

from __future__ import annotations

from ..decl import Arg, Command, Group

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from ..runtime import Invocation


def property_pair(spec: str) -> tuple[str, str | None]:
    """``NAME``, ``NAME=VALUE`` or ``NAME=@FILE`` as (name, value or None); a file is read
    when the command runs (a missing one is a usage error there)."""
    if "=" not in spec:
        return spec.strip(), None
    name, _, value = spec.partition("=")
    return name.strip(), value.strip()


def _value(text: str) -> str:
    if text.startswith("@"):
        with open(text[1:]) as fh:
            return fh.read().strip()
    return text


def _run(inv: Invocation) -> None:
    from ..client import EMPTY
    from ..exceptions import Euca2oolsError
    from ..xmlparse import as_list

    a = inv.args
    pairs = a.get("prop_pairs") or [(None, None)]
    for name, value in pairs:
        setting = value is not None or (a.get("reset") and name)
        if value is not None:
            value = _value(value)
            inv.call("ModifyPropertyValue", {"Name": name, "Value": value or EMPTY})
        elif a.get("reset") and name:
            inv.call("ModifyPropertyValue", {"Name": name, "Reset": "true"})
        if setting and a.get("suppress_all"):
            continue
        result = inv.call("DescribeProperties", {"Property": [name] if name else []})
        props = as_list(result.get("properties"))
        if name and not props:
            raise Euca2oolsError(f"unknown property: {name}")
        for prop in props:
            if a.get("show_defaults"):
                shown = prop.get("defaultValue")
            elif a.get("show_descriptions"):
                shown = prop.get("description")
            else:
                shown = prop.get("value")
            shown = "" if shown is None else str(shown).strip()
            inv.echo(shown if a.get("suppress_name") else f"{prop.get('name')} = {shown}")


COMMANDS = [
    Command(
        "euctl", "properties", None,
        "[Eucalyptus cloud admin only] Show and set cloud properties",
        [
            Arg("NAME[=VALUE|=@FILE]", name="prop_pairs", nargs="*", type=property_pair,
                help="show the property (or every property under a dotted prefix); with a "
                     "value, set it first; a value beginning with @ names a file whose "
                     "contents are the value"),
            Arg("-r", "--reset", name="reset", flag=True,
                help="reset the given properties to their default values"),
            Group(Arg("-d", name="show_defaults", flag=True,
                      help="show properties' default values instead of their current values"),
                  Arg("-s", name="show_descriptions", flag=True,
                      help="show properties' descriptions instead of their current values")),
            Arg("-n", name="suppress_name", flag=True,
                help="suppress output of the property name"),
            Arg("-q", name="suppress_all", flag=True,
                help="suppress all output when setting a property"),
        ],
        run=_run,
        description="Properties are the cloud's run-time settings: the cloud.vmstate timers, "
                    "each zone's scheduler (ZONE.cluster.scheduler) and storage limits "
                    "(ZONE.storage.*), and quota defaults.  Changes are validated by the cloud "
                    "and kept across restarts.",
    ),
]
