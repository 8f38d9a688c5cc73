"""The elbv2 Query API (2015-12-01).  AWS serves it at the classic ELB's endpoint and
SigV4 scope (``elasticloadbalancing``), told apart by the ``Version`` parameter: the
classic service hands 2015-12-01 requests here.  It is also served at its own path,
``/services/LoadBalancingV2``.

``setup(cloud)`` builds the :class:`~server.elbv2.component.ELBv2` component on the
classic ELB's (``cloud.components["elbv2"]``), offers Auto Scaling the registration of
TargetGroupARNs (``cloud.components["autoscaling_target_groups"]``) and runs the
balancers with the cloud.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from server.auth import sigv4
from server.auth.authz import Action, action
from server.elb.service import ELBService
from server.elbv2 import (
    attributes,
    listeners,
    load_balancers,
    rules,
    tags,
    target_groups,
    targets,
)
from server.elbv2.component import ELBv2, GroupTargets
from server.protocol.query import Context, Handler, QueryService

if TYPE_CHECKING:
    from server.cloud import Cloud

API_VERSION = "2015-12-01"
#: Parameters naming the resources (ARNs) a request acts on.
ARN_PARAMS = ("LoadBalancerArn", "LoadBalancerArns", "TargetGroupArn", "TargetGroupArns",
              "ListenerArn", "ListenerArns", "RuleArn", "RuleArns", "ResourceArns")


def resource_arns(ctx: Context) -> list[str]:
    """The ARNs a request names (``*`` when it names none, as creations and listings)."""
    out: list[str] = []
    for name in ARN_PARAMS:
        value = ctx.params.get(name)
        if isinstance(value, str) and value:
            out.append(value)
        elif isinstance(value, list):
            out += [v for v in value if isinstance(v, str) and v]
    for item in ctx.params.get("RulePriorities") or []:
        if isinstance(item, dict) and isinstance(item.get("RuleArn"), str):
            out.append(item["RuleArn"])
    return out or ["*"]


def _a(handler: Handler, name: str) -> Action:
    return action(handler, f"elasticloadbalancing:{name}", resources=resource_arns)


ACTIONS: dict[str, Action] = {
    "CreateLoadBalancer": _a(load_balancers.create_load_balancer, "CreateLoadBalancer"),
    "DescribeLoadBalancers": _a(load_balancers.describe_load_balancers,
                                "DescribeLoadBalancers"),
    "DeleteLoadBalancer": _a(load_balancers.delete_load_balancer, "DeleteLoadBalancer"),
    "SetSecurityGroups": _a(load_balancers.set_security_groups, "SetSecurityGroups"),
    "SetSubnets": _a(load_balancers.set_subnets, "SetSubnets"),
    "SetIpAddressType": _a(load_balancers.set_ip_address_type, "SetIpAddressType"),
    "DescribeAccountLimits": _a(load_balancers.describe_account_limits,
                                "DescribeAccountLimits"),
    "DescribeSSLPolicies": _a(load_balancers.describe_ssl_policies, "DescribeSSLPolicies"),
    "CreateTargetGroup": _a(target_groups.create_target_group, "CreateTargetGroup"),
    "DescribeTargetGroups": _a(target_groups.describe_target_groups, "DescribeTargetGroups"),
    "ModifyTargetGroup": _a(target_groups.modify_target_group, "ModifyTargetGroup"),
    "DeleteTargetGroup": _a(target_groups.delete_target_group, "DeleteTargetGroup"),
    "RegisterTargets": _a(targets.register_targets, "RegisterTargets"),
    "DeregisterTargets": _a(targets.deregister_targets, "DeregisterTargets"),
    "DescribeTargetHealth": _a(targets.describe_target_health, "DescribeTargetHealth"),
    "CreateListener": _a(listeners.create_listener, "CreateListener"),
    "DescribeListeners": _a(listeners.describe_listeners, "DescribeListeners"),
    "ModifyListener": _a(listeners.modify_listener, "ModifyListener"),
    "DeleteListener": _a(listeners.delete_listener, "DeleteListener"),
    "AddListenerCertificates": _a(listeners.add_listener_certificates,
                                  "AddListenerCertificates"),
    "RemoveListenerCertificates": _a(listeners.remove_listener_certificates,
                                     "RemoveListenerCertificates"),
    "DescribeListenerCertificates": _a(listeners.describe_listener_certificates,
                                       "DescribeListenerCertificates"),
    "CreateRule": _a(rules.create_rule, "CreateRule"),
    "DescribeRules": _a(rules.describe_rules, "DescribeRules"),
    "ModifyRule": _a(rules.modify_rule, "ModifyRule"),
    "DeleteRule": _a(rules.delete_rule, "DeleteRule"),
    "SetRulePriorities": _a(rules.set_rule_priorities, "SetRulePriorities"),
    "DescribeLoadBalancerAttributes": _a(attributes.describe_load_balancer_attributes,
                                         "DescribeLoadBalancerAttributes"),
    "ModifyLoadBalancerAttributes": _a(attributes.modify_load_balancer_attributes,
                                       "ModifyLoadBalancerAttributes"),
    "DescribeTargetGroupAttributes": _a(attributes.describe_target_group_attributes,
                                        "DescribeTargetGroupAttributes"),
    "ModifyTargetGroupAttributes": _a(attributes.modify_target_group_attributes,
                                      "ModifyTargetGroupAttributes"),
    "AddTags": _a(tags.add_tags, "AddTags"),
    "RemoveTags": _a(tags.remove_tags, "RemoveTags"),
    "DescribeTags": _a(tags.describe_tags, "DescribeTags"),
}


class ELBv2Service(QueryService):
    """The elbv2 Query API (reached through the classic service's endpoint by Version)."""

    #: No SigV4 name of its own: requests signed for ``elasticloadbalancing`` reach the
    #: classic service, which hands this API version here.
    signing_names = ()
    iam_prefix = "elasticloadbalancing"
    path = "/services/LoadBalancingV2"
    api_version = API_VERSION
    xmlns = f"http://elasticloadbalancing.amazonaws.com/doc/{API_VERSION}/"

    @cached_property
    def scope_names(self) -> tuple[str, ...]:
        """The classic service's credential-scope names (one endpoint, one SigV4 name)."""
        return sigv4.scope_names(ELBService.signing_names)

    def action_table(self) -> dict[str, Handler]:
        """Every elbv2 action."""
        return dict(ACTIONS)


def setup(cloud: Cloud) -> None:
    """Build the component on the classic ELB's data plane and register the service."""
    elb = cloud.components.get("elb")
    if elb is None:
        return  # elbv2 runs on the classic ELB's data plane
    v2 = ELBv2(cloud, elb)
    cloud.components["elbv2"] = v2
    cloud.components["autoscaling_target_groups"] = GroupTargets(v2)
    service = ELBv2Service(cloud)
    cloud.app.register(service)
    classic = cloud.app.by_path.get(ELBService.path.lower())
    if isinstance(classic, ELBService):
        classic.versions[API_VERSION] = service
    cloud.start_hooks.append(v2.start)
    cloud.stop_hooks.append(v2.stop)
