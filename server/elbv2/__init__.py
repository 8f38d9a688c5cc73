"""Elastic Load Balancing version 2 (API 2015-12-01): Application (and Network) Load
Balancers on the classic ELB's HAProxy data plane.

Layout: :mod:`model` (records of balancers, target groups, listeners and rules),
:mod:`store` (their SQL table), :mod:`errors` (the API's error codes), :mod:`common`
(ARNs, lookups, parameter checks), one handler module per resource
(:mod:`load_balancers`, :mod:`target_groups`, :mod:`targets`, :mod:`listeners`,
:mod:`rules`, :mod:`attributes`, :mod:`tags`), :mod:`routing` (rules and actions as the
data plane's routes), :mod:`component` (records, data plane, target health, Auto
Scaling's target groups), :mod:`telemetry` (AWS/ApplicationELB metrics) and
:mod:`service` (the query service and ``setup(cloud)``).  The HAProxy sections are
rendered by :mod:`server.elb.haproxy_app`.
"""
