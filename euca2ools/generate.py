"""Generate what is derived from the declarations: man pages, bash completion, the index.

``python -m euca2ools.generate [--check]`` writes (or, with ``--check``, compares):

* ``euca2ools/commands/_index.py``: command name -> declaring module (fast dispatch);
* ``man/<command>.1`` for every command, ``man/euca2ools.ini.5`` and ``man/euca2ools.7``;
* ``man/<script>.1`` for the other console scripts (``eucalyptus-cloud``, ``euca-sim``,
  ``euca-tui``), from their click or argparse definitions (:mod:`euca2ools.program_pages`);
* ``bash_completion/euca2ools``;
* the ``# BEGIN/END euca2ools scripts`` block of ``pyproject.toml``.

Output is deterministic (no dates), so a test can regenerate and diff.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from . import VERSION_STRING
from .commands import MODULES, all_commands
from .config import SERVICE_DESCRIPTIONS, URL_ENVVAR_ALIASES, URL_ENVVARS
from .decl import Arg, Command, Group, global_args, help_flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANUAL = "euca2ools"


# -- troff helpers ---------------------------------------------------------------------------
def _esc(text: str) -> str:
    """Escape text for troff (backslashes, hyphens, leading dots and quotes)."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def _opt_term(arg: Arg) -> str:
    """The bold/italic term line of an option in a man page."""
    flags = ", ".join(f"\\fB{_esc(f)}\\fR" for f in arg.flags)
    if not arg.flag:
        meta = arg.metavar or arg.key.upper()
        if arg.choices:
            meta = "{" + ",".join(arg.choices) + "}"
        flags += f" \\fI{_esc(meta)}\\fR"
    return flags


def _opt_help(arg: Arg) -> str:
    text = arg.help or ""
    notes = []
    if arg.required and not arg.positional:
        notes.append("required")
    if arg.multiple:
        notes.append("may be repeated")
    if arg.dest:
        notes.append(f"sent as {arg.dest}")
    if notes:
        text += f" ({'; '.join(notes)})"
    return _breakable(_esc(text))


def _breakable(text: str) -> str:
    """Let troff break very long words (syntax specs) after ``:``, ``,`` and ``|``."""
    words = []
    for word in text.split(" "):
        if len(word) > 40:
            for char in ":,|":
                word = word.replace(char, char + "\\:")
        words.append(word)
    return " ".join(words)


def synopsis(command: Command) -> str:
    """The one-line usage of a command."""
    parts = [command.name]
    for item in command.args:
        if isinstance(item, Group):
            inner = " | ".join(a.usage().strip("[]") for a in item.args)
            parts.append(f"({inner})" if item.required else f"[{inner}]")
        elif not item.positional:
            parts.append(item.usage())
    for arg in global_args(command):
        if arg.key in ("debugger", "version"):
            continue
        parts.append(arg.usage())
    parts += [a.usage() for a in command.iter_args() if a.positional]
    return " ".join(parts)


def man_page(command: Command) -> str:
    """The section-1 man page of a command."""
    title = command.name.upper()
    out = [
        f'.TH {_esc(title)} "1" "" "{VERSION_STRING}" "User Commands"',
        # Left-adjusted, unhyphenated: option syntaxes must stay readable at any width.
        ".ad l",
        ".nh",
        ".SH NAME",
        f"{_esc(command.name)} \\- {_esc(command.summary)}",
        ".SH SYNOPSIS",
        f".B {_esc(command.name)}",
        _esc(synopsis(command).split(" ", 1)[1] if " " in synopsis(command) else ""),
        ".SH DESCRIPTION",
        _esc(command.summary + "."),
    ]
    if command.description:
        out += [".PP", _esc(command.description)]
    if not command.local:
        if command.action:
            out += [".PP", _esc(f"This command sends the {command.action} request to the "
                                f"{SERVICE_DESCRIPTIONS.get(command.service, command.service)} "
                                f"service ({command.service}).")]
    positionals = [a for a in command.iter_args() if a.positional]
    if positionals:
        out.append(".SS \"Positional arguments\"")
        for arg in positionals:
            out += [".TP", f"\\fI{_esc(arg.metavar or arg.key)}\\fR", _opt_help(arg)]
    options = [a for a in command.iter_args() if not a.positional]
    if options:
        out.append(".SH OPTIONS")
        for item in command.args:
            args = item.args if isinstance(item, Group) else (item,)
            if isinstance(item, Group):
                which = "exactly one" if item.required else "at most one"
                out += [".PP", _esc(f"Use {which} of the following options:")]
            for arg in args:
                if arg.positional or arg.hidden:
                    continue
                out += [".TP", _opt_term(arg), _opt_help(arg)]
    out.append(".SH \"STANDARD OPTIONS\"")
    for arg in global_args(command):
        out += [".TP", _opt_term(arg), _opt_help(arg)]
    flags = help_flags(command)
    out += [".TP", ", ".join(f"\\fB{_esc(f)}\\fR" for f in flags),
            "show a help message and exit"]
    if command.filters:
        out += [".SH \"ALLOWED FILTER NAMES\"", ".PP",
                _esc("Use --filter NAME=VALUE; repeating a name matches any of its values."),
                ".PP", ".nf"]
        out += [_esc(f) for f in command.filters] + ["tag:KEY", ".fi"]
    if not command.local:
        var = URL_ENVVARS.get(command.service)
        out += [".SH ENVIRONMENT", ".TP", "\\fBEUCA_CONFIG_PATH\\fR",
                _esc("colon-separated list of euca2ools.ini(5) file globs to read instead of "
                     "the defaults")]
        if var:
            names = [var, *URL_ENVVAR_ALIASES.get(command.service, ())]
            out += [".TP", ", ".join(f"\\fB{_esc(n)}\\fR" for n in names),
                    _esc(f"{command.service} endpoint URL (overridden by -U"
                         + (f"; {names[0]} wins over {', '.join(names[1:])})" if names[1:]
                            else ")"))]
        out += [".TP", "\\fBAWS_ACCESS_KEY_ID\\fR, \\fBAWS_SECRET_ACCESS_KEY\\fR",
                _esc("credentials (overridden by -I and -S)"),
                ".TP", "\\fBEUCA_DEFAULT_REGION\\fR, \\fBAWS_DEFAULT_REGION\\fR",
                _esc("region (and user) to use when --region is not given")]
        out += [".SH \"EXIT STATUS\"", _esc("0 on success, 1 on a service or runtime error "
                                             "(printed as PROG: error (CODE): MESSAGE), "
                                             "2 on a usage error, including a local file "
                                             "named on the command line (or in "
                                             "euca2ools.ini) that does not exist or cannot "
                                             "be read.")]
    out += [".SH \"SEE ALSO\"", "\\fBeuca2ools.ini\\fR(5), \\fBeuca2ools\\fR(7)"]
    return "\n".join(out) + "\n"


def ini_page() -> str:
    """euca2ools.ini(5)."""
    services = sorted(URL_ENVVARS)
    out = [
        f'.TH EUCA2OOLS.INI "5" "" "{VERSION_STRING}" "File Formats"',
        ".ad l",
        ".nh",
        ".SH NAME", "euca2ools.ini \\- euca2ools configuration files",
        ".SH SYNOPSIS", ".nf", "/etc/euca2ools/euca2ools.ini", "/etc/euca2ools/conf.d/*.ini",
        "~/.euca/*.ini", ".fi",
        ".SH DESCRIPTION",
        _esc("euca2ools reads its configuration from INI files, in order, later files "
             "overriding earlier ones. The EUCA_CONFIG_PATH environment variable, a "
             "colon-separated list of globs, replaces the default search path; a glob may "
             "match nothing (directories it matches are skipped), but a file it names "
             "without wildcards must exist and be a file; a file that cannot be read or is "
             "not INI text stops every command with one line of error (exit status 1). "
             "The Amazon Web "
             "Services regions (aws:us-east-1 and so on) are built in and always read first, "
             "with the lowest precedence."),
        ".PP",
        _esc("Three kinds of sections are recognised: [global], [region NAME] and "
             "[user NAME]. Names may be namespaced with colons (aws:us-east-1); a bare name "
             "that matches exactly one namespaced section refers to it. Sections whose names "
             "contain * wildcards (aws:*, *) supply values for every matching name; the most "
             "specific match wins. A value of the form \"use SECTION [OPTION]\" reads the "
             "option from another section instead."),
        ".SH \"GLOBAL OPTIONS\"",
        ".TP", "\\fBdefault\\-region\\fR", _esc("region to use when none is chosen otherwise"),
        ".TP", "\\fBdebug\\fR", _esc("true, false or color: show tracebacks and debug logging"),
        ".TP", "\\fBmax\\-retries\\fR", _esc("retries on HTTP 500/503 and timeouts (default 2)"),
        ".TP", "\\fBtimeout\\fR", _esc("socket timeout in seconds (default 30)"),
        ".SH \"REGION OPTIONS\"",
    ]
    for svc in services:
        out += [".TP", f"\\fB{_esc(svc)}\\-url\\fR",
                _esc(f"{SERVICE_DESCRIPTIONS[svc]} service URL; REGION::URL also sets the "
                     "region name used for signing")]
    out += [".TP", "\\fBuser\\fR", _esc("default [user] section for this region"),
            ".TP", "\\fBname\\fR", _esc("region name used for SigV4 signing"),
            ".TP", "\\fBcertificate\\fR", _esc("the cloud's image-bundling certificate"),
            ".TP", "\\fBverify\\-ssl\\fR, \\fBverify\\-tls\\fR",
            _esc("verify TLS certificates (default false)"),
            ".TP", "\\fBca\\-bundle\\fR",
            _esc("file of CA certificates to verify against (default: the system's)"),
            ".TP", "\\fBs3\\-force\\-sigv4\\fR, \\fBs3\\-location\\-constraint\\fR",
            _esc("object storage signing and bucket location"),
            ".TP", "\\fBec2\\-default\\-keypair\\fR",
            _esc("key pair euca-run-instances uses when -k is not given"),
            ".SH \"USER OPTIONS\"",
            ".TP", "\\fBkey\\-id\\fR, \\fBsecret\\-key\\fR", _esc("access key"),
            ".TP", "\\fBaccount\\-id\\fR", _esc("account ID"),
            ".TP", "\\fBcertificate\\fR, \\fBprivate\\-key\\fR",
            _esc("X.509 certificate and private key for bundling"),
            ".SH EXAMPLE", ".nf",
            "[global]", "default\\-region = localhost", "",
            "[region localhost]", "ec2\\-url = http://127.0.0.1:8773/services/compute",
            "iam\\-url = http://127.0.0.1:8773/services/Euare", "user = 000000000000:admin", "",
            "[user 000000000000:admin]", "key\\-id = AKIA...", "secret\\-key = ...",
            "account\\-id = 000000000000", ".fi",
            ".SH \"SEE ALSO\"", "\\fBeuca2ools\\fR(7)"]
    return "\n".join(out) + "\n"


def overview_page(commands: list[Command]) -> str:
    """euca2ools(7): services, variables and the command list."""
    out = [
        "'\\\" t",  # ask man to run tbl for the services table
        f'.TH EUCA2OOLS "7" "" "{VERSION_STRING}" "Miscellaneous"',
        ".ad l",
        ".nh",
        ".SH NAME", "euca2ools \\- Eucalyptus and AWS command line tools",
        ".SH DESCRIPTION",
        _esc("euca2ools is a suite of command line tools for Eucalyptus clouds and Amazon Web "
             "Services. Each command prints tab-separated records whose first field names "
             "the record type."),
        ".SH SERVICES",
        _esc("Each service's endpoint comes from -U, then its environment variable, then its "
             "option in the selected region section of euca2ools.ini(5)."),
        ".TS", "l l.", "Config option\tEnvironment variable"]
    for svc in sorted(URL_ENVVARS):
        out.append(f"{_esc(svc)}\\-url\t{_esc(URL_ENVVARS[svc])}")
    out += [".TE", ".SH COMMANDS"]
    for cmd in sorted(commands, key=lambda c: c.name):
        out += [".TP", f"\\fB{_esc(cmd.name)}\\fR(1)", _esc(cmd.summary)]
    out += [".SH \"EXIT STATUS\"",
            _esc("Every command exits 0 on success; 1 on a service error (printed as "
                 "PROG: error (CODE): MESSAGE) or another runtime error; 2 on a usage error: "
                 "a missing, unknown or conflicting option, a bad value (argument -s/--size: "
                 "invalid int value: '1.5'), or a local file named on the command line (or "
                 "in euca2ools.ini) that does not exist or cannot be read."),
            ".SH \"SEE ALSO\"", "\\fBeuca2ools.ini\\fR(5)"]
    return "\n".join(out) + "\n"


# -- bash completion --------------------------------------------------------------------------
def _bash_words(words: list[str]) -> str:
    return " ".join(words).replace('"', '\\"')


def completion_script(commands: list[Command]) -> str:
    """The bash completion script for every command."""
    opts, valued, filters, kinds = [], [], [], []
    for cmd in commands:
        args = list(cmd.iter_args()) + global_args(cmd)
        names = [f for a in args if not a.positional and not a.hidden for f in a.flags]
        names += list(help_flags(cmd))
        opts.append(f'    [{cmd.name}]="{_bash_words(sorted(set(names)))}"')
        takes = [f for a in args if not a.positional and not a.flag for f in a.flags]
        valued.append(f'    [{cmd.name}]=" {_bash_words(takes)} "')
        if cmd.filters:
            filters.append(f'    [{cmd.name}]="{_bash_words(list(cmd.filters) + ["tag:"])}"')
        for arg in args:
            if not arg.complete:
                continue
            if arg.positional:
                kinds.append(f"    [{cmd.name}:@]={arg.complete}")
            else:
                kinds += [f"    [{cmd.name}:{f}]={arg.complete}" for f in arg.flags]
    return _COMPLETION_TEMPLATE.format(
        opts="\n".join(opts), valued="\n".join(valued), filters="\n".join(filters),
        kinds="\n".join(kinds), names=" ".join(c.name for c in commands))


_COMPLETION_TEMPLATE = r"""# bash completion for euca2ools                          -*- shell-script -*-
# Generated by "python -m euca2ools.generate" from the command declarations; do not edit.
#
# Completes options, --filter names, and values: instance types, zones, and live
# resource IDs (instances, images, volumes, snapshots, groups, key pairs, addresses,
# load balancers, VPCs, subnets, Internet gateways, route tables, network ACLs and
# interfaces)
# read from the configured cloud with the euca-* commands themselves.  Lookups are
# cached for EUCA2OOLS_COMPLETION_TTL seconds (default 10) under
# ${{XDG_CACHE_HOME:-~/.cache}}/euca2ools/.

declare -gA _EUCA2OOLS_OPTS=(
{opts}
)
declare -gA _EUCA2OOLS_VALUED=(
{valued}
)
declare -gA _EUCA2OOLS_FILTERS=(
{filters}
)
declare -gA _EUCA2OOLS_KINDS=(
{kinds}
)

# Print the IDs of one kind of resource, from a fresh cache file or from the cloud.
_euca2ools_live()
{{
    local kind=$1; shift
    local dir="${{XDG_CACHE_HOME:-$HOME/.cache}}/euca2ools"
    local key file now mtime out
    key=$(printf '%s|' "$kind" "$@" "${{EUCA_CONFIG_PATH-}}" "${{EC2_URL-}}" "${{AWS_IAM_URL-}}" \
          "${{AWS_ELB_URL-}}" "${{EUCA_ELB_URL-}}" "${{EUCA_DEFAULT_REGION-}}" "${{AWS_DEFAULT_REGION-}}" "${{AWS_ACCESS_KEY_ID-}}" | cksum)
    file="$dir/${{kind}}-${{key%% *}}"
    now=$(date +%s)
    if [[ -f $file ]]; then
        mtime=$(stat -c %Y "$file" 2>/dev/null || echo 0)
        if (( now - mtime < ${{EUCA2OOLS_COMPLETION_TTL:-10}} )); then
            cat "$file"
            return 0
        fi
    fi
    case $kind in
        instance) out=$(euca-describe-instances "$@" 2>/dev/null | awk -F'\t' '$1=="INSTANCE"{{print $2}}') ;;
        image) out=$(euca-describe-images -a "$@" 2>/dev/null | awk -F'\t' '$1=="IMAGE"{{print $2}}') ;;
        volume) out=$(euca-describe-volumes "$@" 2>/dev/null | awk -F'\t' '$1=="VOLUME"{{print $2}}') ;;
        snapshot) out=$(euca-describe-snapshots "$@" 2>/dev/null | awk -F'\t' '$1=="SNAPSHOT"{{print $2}}') ;;
        group) out=$(euca-describe-groups "$@" 2>/dev/null | awk -F'\t' '$1=="GROUP"{{print $2; print $4}}') ;;
        keypair) out=$(euca-describe-keypairs "$@" 2>/dev/null | awk -F'\t' '$1=="KEYPAIR"{{print $2}}') ;;
        address) out=$(euca-describe-addresses "$@" 2>/dev/null | awk -F'\t' '$1=="ADDRESS"{{print $2}}') ;;
        zone) out=$(euca-describe-availability-zones "$@" 2>/dev/null | awk -F'\t' '$1=="AVAILABILITYZONE" && $2 !~ /^\|/ {{print $2}}') ;;
        user) out=$(euare-userlistbypath "$@" 2>/dev/null | awk -F/ '/^arn:/{{print $NF}}') ;;
        loadbalancer) out=$(eulb-describe-lbs "$@" 2>/dev/null | awk -F'\t' '$1=="LOAD_BALANCER"{{print $2}}') ;;
        vpc) out=$(euca-describe-vpcs "$@" 2>/dev/null | awk -F'\t' '$1=="VPC"{{print $2}}') ;;
        subnet) out=$(euca-describe-subnets "$@" 2>/dev/null | awk -F'\t' '$1=="SUBNET"{{print $2}}') ;;
        internet-gateway) out=$(euca-describe-internet-gateways "$@" 2>/dev/null | awk -F'\t' '$1=="INTERNETGATEWAY"{{print $2}}') ;;
        route-table) out=$(euca-describe-route-tables "$@" 2>/dev/null | awk -F'\t' '$1=="ROUTETABLE"{{print $2}}') ;;
        network-acl) out=$(euca-describe-network-acls "$@" 2>/dev/null | awk -F'\t' '$1=="NETWORKACL"{{print $2}}') ;;
        network-interface) out=$(euca-describe-network-interfaces "$@" 2>/dev/null | awk -F'\t' '$1=="NETWORKINTERFACE"{{print $2}}') ;;
        instance-type)
            out=$(euca-describe-instance-types "$@" 2>/dev/null | awk -F'\t' '$1=="INSTANCETYPE"{{split($2, f, " "); if (f[1] != "Name") print f[1]}}')
            [[ -n $out ]] || out="t1.micro m1.small m1.medium c1.medium m1.large m1.xlarge c1.xlarge m2.xlarge m3.xlarge m2.2xlarge m3.2xlarge cc1.4xlarge m2.4xlarge hi1.4xlarge cc2.8xlarge cg1.4xlarge cr1.8xlarge hs1.8xlarge"
            ;;
        region)
            local f
            for f in ${{EUCA_CONFIG_PATH//:/ }} /etc/euca2ools/euca2ools.ini /etc/euca2ools/conf.d/*.ini ~/.euca/*.ini; do
                [[ -r $f ]] && sed -n 's/^\[region \([^]*]*\)\].*/\1/p' "$f"
            done
            out=$(printf '%s\n' "$out"; for f in us-east-1 us-east-2 us-west-1 us-west-2 eu-west-1 eu-central-1 ap-northeast-1 ap-southeast-1 ap-southeast-2 sa-east-1; do echo "aws:$f"; done)
            ;;
    esac
    if mkdir -p "$dir" 2>/dev/null; then
        printf '%s\n' "$out" > "$file.$$" 2>/dev/null && mv -f "$file.$$" "$file"
    fi
    printf '%s\n' "$out"
}}

_euca2ools()
{{
    local cmd=${{COMP_WORDS[0]##*/}} cur=${{COMP_WORDS[COMP_CWORD]}} prev="" kind=""
    (( COMP_CWORD > 0 )) && prev=${{COMP_WORDS[COMP_CWORD-1]}}
    COMPREPLY=()
    # Pass --region/-I/-S through so live lookups ask the same cloud as the command.
    local -a pass=()
    local i
    for (( i=1; i < COMP_CWORD; i++ )); do
        case ${{COMP_WORDS[i]}} in
            --region|-I|--access-key-id|-S|--secret-key) pass+=("${{COMP_WORDS[i]}}" "${{COMP_WORDS[i+1]}}") ;;
        esac
    done
    # --filter NAME=VALUE: complete VALUE for filters naming a resource kind.  With the
    # default COMP_WORDBREAKS, "=" is a word of its own; otherwise it is inside $cur.
    local fname="" fprefix=""
    if [[ $prev == "=" && $COMP_CWORD -ge 3 && ${{COMP_WORDS[COMP_CWORD-3]}} == --filter ]]; then
        fname=${{COMP_WORDS[COMP_CWORD-2]}}
    elif [[ $prev == --filter && $cur == *=* ]]; then
        fname=${{cur%%=*}} fprefix="${{cur%%=*}}="
        cur=${{cur#*=}}
    fi
    if [[ -n $fname ]]; then
        case $fname in
            instance-id|attachment.instance-id|resource-id) kind=instance ;;
            image-id|kernel-id|ramdisk-id) kind=image ;;
            volume-id|block-device-mapping.volume-id) kind=volume ;;
            snapshot-id) kind=snapshot ;;
            availability-zone|zone-name) kind=zone ;;
            instance-type) kind=instance-type ;;
            key-name) kind=keypair ;;
            group-name|group-id|instance.group-name|instance.group-id) kind=group ;;
            public-ip) kind=address ;;
            vpc-id|attachment.vpc-id) kind=vpc ;;
            subnet-id|association.subnet-id) kind=subnet ;;
            internet-gateway-id) kind=internet-gateway ;;
            route-table-id|association.route-table-id) kind=route-table ;;
            network-acl-id|association.network-acl-id) kind=network-acl ;;
            network-interface-id) kind=network-interface ;;
            instance-state-name)
                COMPREPLY=( $(compgen -P "$fprefix" -W "pending running shutting-down terminated stopping stopped" -- "$cur") )
                return 0 ;;
            *) return 0 ;;
        esac
        COMPREPLY=( $(compgen -P "$fprefix" -W "$(_euca2ools_live "$kind" "${{pass[@]}}")" -- "$cur") )
        return 0
    fi
    if [[ $prev == --filter ]]; then
        COMPREPLY=( $(compgen -W "${{_EUCA2OOLS_FILTERS[$cmd]}}" -- "$cur") )
        if (( ${{#COMPREPLY[@]}} )); then
            COMPREPLY=( "${{COMPREPLY[@]/%/=}}" )
            compopt -o nospace 2>/dev/null
        fi
        return 0
    fi
    if [[ $prev == -* && ${{_EUCA2OOLS_VALUED[$cmd]}} == *" $prev "* ]]; then
        kind=${{_EUCA2OOLS_KINDS[$cmd:$prev]}}
        [[ -n $kind ]] || return 0
    elif [[ $cur == -* ]]; then
        COMPREPLY=( $(compgen -W "${{_EUCA2OOLS_OPTS[$cmd]}}" -- "$cur") )
        return 0
    else
        kind=${{_EUCA2OOLS_KINDS[$cmd:@]}}
    fi
    case $kind in
        "") ;;
        file) COMPREPLY=( $(compgen -f -- "$cur") ) ;;
        *) COMPREPLY=( $(compgen -W "$(_euca2ools_live "$kind" "${{pass[@]}}")" -- "$cur") ) ;;
    esac
    return 0
}}

complete -F _euca2ools {names}
"""


# -- index and console scripts ------------------------------------------------------------------
def index_module(commands_by_module: dict[str, list[Command]]) -> str:
    """``_index.py``: command name -> module, sorted."""
    rows = sorted((c.name, mod) for mod, cmds in commands_by_module.items() for c in cmds)
    body = "\n".join(f'    "{name}": "{mod}",' for name, mod in rows)
    return ('"""Generated by ``python -m euca2ools.generate``: command name -> declaring '
            'module."""\n\nINDEX = {\n' + body + "\n}\n")


def scripts_block(commands: list[Command]) -> str:
    """The console-script lines for pyproject.toml."""
    return "\n".join(f'{c.name} = "euca2ools.main:main"' for c in sorted(commands, key=lambda c: c.name))


def outputs() -> dict[str, str]:
    """Every generated file, relative to the repository root -> content."""
    import importlib

    by_module: dict[str, list[Command]] = {}
    for mod in MODULES:
        by_module[mod] = list(importlib.import_module(f"euca2ools.commands.{mod}").COMMANDS)
    commands = all_commands()
    files = {"euca2ools/commands/_index.py": index_module(by_module)}
    for cmd in commands:
        files[f"man/{cmd.name}.1"] = man_page(cmd)
    files["man/euca2ools.ini.5"] = ini_page()
    files["man/euca2ools.7"] = overview_page(commands)
    from .program_pages import program_pages  # eucalyptus-cloud, euca-sim, euca-tui

    files.update(program_pages())
    files["bash_completion/euca2ools"] = completion_script(commands)
    files["pyproject.toml"] = _pyproject_with(scripts_block(commands))
    return files


def _pyproject_with(block: str) -> str:
    """pyproject.toml with only the euca2ools scripts block replaced."""
    path = os.path.join(ROOT, "pyproject.toml")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    begin, end = "# BEGIN euca2ools scripts\n", "# END euca2ools scripts"
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    return head + begin + block + "\n" + end + tail


def main(argv: list[str] | None = None) -> int:
    """Write the generated files, or with --check report the stale ones (exit 1)."""
    argv = sys.argv[1:] if argv is None else argv
    check = "--check" in argv
    stale = []
    for rel, content in outputs().items():
        path = os.path.join(ROOT, rel)
        try:
            with open(path, encoding="utf-8") as handle:
                current: Any = handle.read()
        except OSError:
            current = None
        if current == content:
            continue
        stale.append(rel)
        if not check:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(content)
    for rel in stale:
        print(("stale: " if check else "wrote: ") + rel)
    return 1 if (check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
