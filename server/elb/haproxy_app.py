"""HAProxy sections of an Application (or Network) Load Balancer: a frontend per
listener whose routes (rules in priority order, then the default action) pick a target
group backend, return a fixed response or redirect; a backend per target group with its
own health check.

Each route's patterns are written to files next to the configuration (HAProxy reads
pattern files line by line, verbatim), so no user text is ever parsed as configuration.
The first route whose conditions all hold sets ``txn.route``; the actions then test
that variable, so rule order holds across ``http-request`` rules and ``use_backend``.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from server.ports.loadbalancer import (
    AppBalancerSpec,
    AppListenerSpec,
    Route,
    TargetGroupSpec,
)
from server.util import atomic_write

#: An access-log entry's fields after the ones the cloud adds (type, time, balancer):
#: client:port target:port request_time target_time response_time elb_status
#: target_status received_bytes sent_bytes "request" "user_agent" ssl_cipher ssl_protocol
#: backend (the target group's, mapped to its ARN by the cloud).
ACCESS_LOG = ('%ci:%cp %si:%sp %TR %Tr %Td %ST %ST %U %B '
              '\\"%HM {scheme}://%[capture.req.hdr(0)]%HU %HV\\" \\"%[capture.req.hdr(1)]\\" '
              '{ssl} %b')

#: How each condition's fetch reads the request (host without its port).
FETCHES = {"path": "path", "host": "req.hdr(host),field(1,:)", "method": "method",
           "src": "src", "query": "query"}


def app_sections(spec: AppBalancerSpec, d: str,
                 source_filter: Callable[[int], list[str]]) -> list[str]:
    """The ``frontend`` and ``backend`` sections of the balancer (files under ``d``);
    ``source_filter(port)`` gives the lines that keep out the sources its security groups
    do not admit."""
    out: list[str] = []
    for li in spec.listeners:
        out += _frontend(spec, li, d, source_filter(li.port))
    for tg in spec.target_groups:
        out += _backend(tg)
    return out


def _write(d: str, name: str, lines: list[str] | str) -> str:
    path = os.path.join(d, name)
    text = lines if isinstance(lines, str) else "\n".join(lines) + "\n"
    atomic_write(path, text.encode(), mode=0o600)
    return path


def _frontend(spec: AppBalancerSpec, li: AppListenerSpec, d: str,
              source_filter: list[str]) -> list[str]:
    http = li.protocol in ("HTTP", "HTTPS")
    bind = f"    bind {spec.address}:{li.port}"
    if li.protocol == "HTTPS":
        pem = _write(d, f"listener-{li.port}.pem", li.certificate_pem)
        bind += f" ssl crt {pem}"  # the first is the default (no SNI, or no match)
        for n, extra in enumerate(li.sni_pems):
            bind += f" crt {_write(d, f'listener-{li.port}-sni{n}.pem', extra)}"
        if li.tls_min:
            bind += f" ssl-min-ver {li.tls_min}"
    lines = [f"frontend a{li.port}", f"    mode {'http' if http else 'tcp'}", bind]
    lines += source_filter
    if http and spec.access_log:
        ssl = "%sslc %sslv" if li.protocol == "HTTPS" else "- -"
        fmt = ACCESS_LOG.format(scheme=li.protocol.lower(), ssl=ssl)
        lines += ["    http-request capture req.hdr(host) len 128",
                  "    http-request capture req.hdr(user-agent) len 256",
                  f'    log-format "{li.protocol.lower()} {fmt}"']
    else:
        lines.append("    no log")
    if http:
        lines += ["    option forwardfor",
                  f"    http-request set-header X-Forwarded-Proto {li.protocol.lower()}",
                  f"    http-request set-header X-Forwarded-Port {li.port}"]
    else:
        # A network listener has its default action only: forward.
        route = li.routes[-1]
        if route.forward:
            lines.append(f"    default_backend {route.forward[0][0]}")
        return lines + [""]
    var = "var(txn.route)"
    for n, route in enumerate(li.routes):
        acls = []
        for m, cond in enumerate(route.conditions):
            name = f"r{n}c{m}"
            path = _write(d, f"l{li.port}-{name}.lst", list(cond.patterns))
            if cond.fetch == "src":
                lines.append(f"    acl {name} src -f {path}")
            elif cond.fetch == "method":
                lines.append(f"    acl {name} method -f {path}")
            else:
                fetch = FETCHES.get(cond.fetch) or f"req.hdr({cond.fetch[4:]})"
                lines.append(f"    acl {name} {fetch} -m reg -f {path}")
            acls.append(name)
        when = " ".join([*acls, f"!{{ {var} -m found }}"])
        lines.append(f"    http-request set-var(txn.route) int({n}) if {when}")
    uses: list[str] = []
    for n, route in enumerate(li.routes):
        lines += _action(li, n, route, d, uses)
    return lines + uses + [""]


def _action(li: AppListenerSpec, n: int, route: Route, d: str, uses: list[str]) -> list[str]:
    picked = f"{{ var(txn.route) -m int eq {n} }}"
    if route.action == "fixed-response":
        line = f"    http-request return status {route.status}"
        if route.body:
            body = _write(d, f"l{li.port}-r{n}.body", route.body)
            line += f' content-type "{route.content_type}" file {body}'
        return [f"{line} if {picked}"]
    if route.action == "redirect":
        lines = []
        if route.location_bare:  # no "?" when the request has no query string
            lines.append(f'    http-request redirect location "{route.location_bare}" code '
                         f"{route.status} if {picked} !{{ query -m len gt 0 }}")
        return lines + [f'    http-request redirect location "{route.location}" code '
                        f"{route.status} if {picked}"]
    live = [(name, w) for name, w in route.forward if w > 0] or list(route.forward[:1])
    if not live:
        return []  # nothing to forward to: HAProxy answers 503
    if len(live) == 1:
        uses.append(f"    use_backend {live[0][0]} if {picked}")
        return []
    # Weighted forward: one draw per request over the route's total weight.
    upto = 0
    for name, weight in live:
        upto += weight
        uses.append(f"    use_backend {name} if {picked} {{ var(txn.pick) -m int lt {upto} }}")
    return [f"    http-request set-var(txn.pick) rand({upto}) if {picked}"]


def _backend(tg: TargetGroupSpec) -> list[str]:
    http = tg.protocol in ("HTTP", "HTTPS")
    lines = [f"backend {tg.name}", f"    mode {'http' if http else 'tcp'}",
             f"    balance {tg.algorithm}",
             # The target group's own check timing (the defaults are the classic ones').
             f"    timeout connect {min(5, max(1, tg.timeout))}s",
             f"    timeout check {tg.timeout}s"]
    if tg.check_enabled and tg.check_protocol in ("HTTP", "HTTPS"):
        lines += [f"    option httpchk GET {tg.check_path}",
                  f"    http-check expect rstatus {tg.check_codes}"]
    if http and tg.sticky_seconds:
        lines.append(f"    cookie AWSALB insert indirect nocache maxlife {tg.sticky_seconds}s")
    for t in tg.targets:
        server = f"    server {t.name} {t.address}:{t.port}"
        if tg.check_enabled:
            server += f" check port {tg.check_port or t.port} inter {tg.interval}s " \
                      f"rise {tg.healthy_threshold} fall {tg.unhealthy_threshold}"
            if tg.check_protocol == "HTTPS":
                server += " check-ssl verify none"
        if tg.protocol == "HTTPS":
            server += " ssl verify none"
        if http and tg.sticky_seconds:
            server += f" cookie {t.name}"
        lines.append(server)
    return lines + [""]
