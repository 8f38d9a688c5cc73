"""Elastic Load Balancing (classic, API 2012-06-01) with a real data plane.

Layout: :mod:`model` (a balancer's record), :mod:`store` (its SQL table), :mod:`errors`
(ELB's error codes), :mod:`balancers` / :mod:`settings` / :mod:`policies` (API handlers),
:mod:`haproxy` (one HAProxy process per balancer: configuration, reloads, stats),
:mod:`health` (instance health, from HAProxy or from the modelled instances),
:mod:`telemetry` (AWS/ELB metrics and access logs), :mod:`component` (the component behind
:class:`server.ports.loadbalancer.LoadBalancerPort`) and :mod:`service` (the query service
and ``setup(cloud)``).
"""
