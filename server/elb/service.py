"""The ELB Query API (2012-06-01) at ``/services/LoadBalancing`` and SigV4 scope
``elasticloadbalancing``.

``setup(cloud)`` builds the :class:`~server.elb.component.ELB` component
(``cloud.components["elb"]``), offers Auto Scaling its members' registration
(``cloud.components["autoscaling_load_balancers"]``), the AWS/ELB metrics and access
logs (``cloud.components["elb_telemetry"]``), and starts the balancers with the cloud.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from server.auth import sigv4
from server.auth.authz import Action, action, arn
from server.elb import balancers, policies
from server.elb.component import ELB, GroupMembers
from server.protocol.http import Request, Response
from server.protocol.query import Context, Handler, QueryService

if TYPE_CHECKING:
    from server.cloud import Cloud

API_VERSION = "2012-06-01"


def balancer_arn(ctx: Context) -> list[str]:
    """The ARN of the balancer a request names (``*`` when it names none)."""
    names = [ctx.params.get("LoadBalancerName")] if ctx.params.get("LoadBalancerName") \
        else ctx.params.strings("LoadBalancerNames") if isinstance(
            ctx.params.get("LoadBalancerNames"), (list, str)) else []
    out = [arn(ctx, "elasticloadbalancing", f"loadbalancer/{n}") for n in names
           if isinstance(n, str) and n]
    return out or ["*"]


def _a(handler: Handler, name: str) -> Action:
    return action(handler, f"elasticloadbalancing:{name}", resources=balancer_arn)


ACTIONS: dict[str, Action] = {
    "CreateLoadBalancer": _a(balancers.create_load_balancer, "CreateLoadBalancer"),
    "DeleteLoadBalancer": _a(balancers.delete_load_balancer, "DeleteLoadBalancer"),
    "DescribeLoadBalancers": _a(balancers.describe_load_balancers, "DescribeLoadBalancers"),
    "CreateLoadBalancerListeners": _a(balancers.create_load_balancer_listeners,
                                      "CreateLoadBalancerListeners"),
    "DeleteLoadBalancerListeners": _a(balancers.delete_load_balancer_listeners,
                                      "DeleteLoadBalancerListeners"),
    "RegisterInstancesWithLoadBalancer": _a(balancers.register_instances,
                                            "RegisterInstancesWithLoadBalancer"),
    "DeregisterInstancesFromLoadBalancer": _a(balancers.deregister_instances,
                                              "DeregisterInstancesFromLoadBalancer"),
    "DescribeInstanceHealth": _a(balancers.describe_instance_health, "DescribeInstanceHealth"),
    "ConfigureHealthCheck": _a(balancers.configure_health_check, "ConfigureHealthCheck"),
    "EnableAvailabilityZonesForLoadBalancer": _a(balancers.enable_availability_zones,
                                                 "EnableAvailabilityZonesForLoadBalancer"),
    "DisableAvailabilityZonesForLoadBalancer": _a(balancers.disable_availability_zones,
                                                  "DisableAvailabilityZonesForLoadBalancer"),
    "AttachLoadBalancerToSubnets": _a(balancers.attach_to_subnets,
                                      "AttachLoadBalancerToSubnets"),
    "DetachLoadBalancerFromSubnets": _a(balancers.detach_from_subnets,
                                        "DetachLoadBalancerFromSubnets"),
    "ApplySecurityGroupsToLoadBalancer": _a(balancers.apply_security_groups,
                                            "ApplySecurityGroupsToLoadBalancer"),
    "AddTags": _a(balancers.add_tags, "AddTags"),
    "RemoveTags": _a(balancers.remove_tags, "RemoveTags"),
    "DescribeTags": _a(balancers.describe_tags, "DescribeTags"),
    "DescribeAccountLimits": _a(balancers.describe_account_limits, "DescribeAccountLimits"),
    "DescribeLoadBalancerAttributes": _a(policies.describe_attributes,
                                         "DescribeLoadBalancerAttributes"),
    "ModifyLoadBalancerAttributes": _a(policies.modify_attributes,
                                       "ModifyLoadBalancerAttributes"),
    "CreateLoadBalancerPolicy": _a(policies.create_load_balancer_policy,
                                   "CreateLoadBalancerPolicy"),
    "CreateLBCookieStickinessPolicy": _a(policies.create_lb_cookie_stickiness_policy,
                                         "CreateLBCookieStickinessPolicy"),
    "CreateAppCookieStickinessPolicy": _a(policies.create_app_cookie_stickiness_policy,
                                          "CreateAppCookieStickinessPolicy"),
    "DeleteLoadBalancerPolicy": _a(policies.delete_load_balancer_policy,
                                   "DeleteLoadBalancerPolicy"),
    "DescribeLoadBalancerPolicies": _a(policies.describe_load_balancer_policies,
                                       "DescribeLoadBalancerPolicies"),
    "DescribeLoadBalancerPolicyTypes": _a(policies.describe_load_balancer_policy_types,
                                          "DescribeLoadBalancerPolicyTypes"),
    "SetLoadBalancerPoliciesOfListener": _a(policies.set_policies_of_listener,
                                            "SetLoadBalancerPoliciesOfListener"),
    "SetLoadBalancerPoliciesForBackendServer": _a(policies.set_policies_for_backend_server,
                                                  "SetLoadBalancerPoliciesForBackendServer"),
    "SetLoadBalancerListenerSSLCertificate": _a(policies.set_listener_ssl_certificate,
                                                "SetLoadBalancerListenerSSLCertificate"),
}


class ELBService(QueryService):
    """The classic Elastic Load Balancing Query API."""

    signing_names = ("elasticloadbalancing",)
    iam_prefix = "elasticloadbalancing"
    path = "/services/LoadBalancing"
    api_version = API_VERSION
    xmlns = f"http://elasticloadbalancing.amazonaws.com/doc/{API_VERSION}/"

    def __init__(self, cloud: Cloud):
        super().__init__(cloud)
        #: Other API versions served at this endpoint, by ``Version`` (elbv2's 2015-12-01
        #: is, in AWS, the same endpoint and SigV4 name).
        self.versions: dict[str, QueryService] = {}

    def action_table(self) -> dict[str, Handler]:
        """Every classic ELB action."""
        return dict(ACTIONS)

    async def handle(self, request: Request) -> Response:
        """Serve a request, or hand it to the service of the API version it names."""
        if self.versions:
            other = self.versions.get(await _version(request, self.versions))
            if other is not None:
                return await other.handle(request)
        return await super().handle(request)


async def _version(request: Request, wanted: dict[str, QueryService]) -> str:
    """The request's ``Version`` parameter (query string or form body) when it is one of
    ``wanted``, else "" (a body naming none of them is not parsed twice)."""
    for key, value in request.query_pairs:
        if key == "Version":
            return value
    if request.method != "POST":
        return ""
    try:
        body = await request.body()  # kept by the request for the service that serves it
    except (ValueError, ConnectionError):
        return ""
    if not any(f"Version={v}".encode() in body for v in wanted):
        return ""
    try:
        pairs = sigv4.parse_query(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return ""
    return next((v for k, v in pairs if k == "Version"), "")


def setup(cloud: Cloud) -> None:
    """Build the component, register the service, run the balancers with the cloud."""
    elb = ELB(cloud)
    cloud.components["elb"] = elb
    cloud.components["autoscaling_load_balancers"] = GroupMembers(elb)
    from server.elb.telemetry import Telemetry

    cloud.components["elb_telemetry"] = Telemetry(elb)
    cloud.app.register(ELBService(cloud))
    cloud.start_hooks.append(elb.start)
    cloud.stop_hooks.append(elb.stop)
