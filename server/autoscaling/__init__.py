"""Auto Scaling: groups that launch, replace and scale this cloud's instances.

Layout: :mod:`model` (records), :mod:`store` (persistence), :mod:`plan` (the pure
reconciliation decision), :mod:`controller` (one loop per group on the cloud's clock),
:mod:`groups` / :mod:`policies` (API handlers) and :mod:`service` (the query service
and ``setup(cloud)``).
"""
