"""Every action of every query service declares its IAM action and resources."""

from __future__ import annotations

from typing import Any

from server.auth.authz import Action, as_action


def test_every_action_is_declared(tmp_path: Any) -> None:
    """Walk every registered service's table: each row must be an Action whose IAM name
    is ``prefix:ActionName`` (a bare handler is undeclared)."""
    from server.cloud import Cloud
    from server.config import load

    cloud = Cloud(load(None, data_dir=str(tmp_path)))
    try:
        services = {id(s): s for s in cloud.app.by_path.values()}
        services.update({id(s): s for s in cloud.app.by_signing_name.values()})
        undeclared = []
        checked = 0
        for service in services.values():
            actions = getattr(service, "actions", None)
            if not isinstance(actions, dict):
                continue
            prefix = getattr(service, "iam_prefix", "")
            for name, row in actions.items():
                checked += 1
                declared = as_action(row, prefix, name)
                if not isinstance(row, Action) or declared.extra.get("undeclared"):
                    undeclared.append(f"{service.path} {name}")
                    continue
                service_name, _, action_name = declared.iam_action.partition(":")
                assert service_name and action_name == name, (name, declared.iam_action)
        assert checked > 80
        assert not undeclared, f"actions without an authorization declaration: {undeclared}"
    finally:
        cloud.engine.dispose()
