"""Rule handlers: create, describe, modify and delete a listener's rules, and set their
priorities.  A listener's default rule (its default actions) is listed with IsDefault."""

from __future__ import annotations

from typing import Any

from server import errors
from server.elb.common import int_value
from server.elbv2 import errors as v2_errors
from server.elbv2.common import component, find_listener, find_rule, new_id, page
from server.elbv2.listeners import check_groups
from server.elbv2.model import Listener, Rule
from server.elbv2.routing import parse_actions, parse_conditions
from server.elbv2.tags import parse_tags
from server.protocol.query import Context

MAX_RULES = 100


def describe(rule: Rule) -> dict[str, Any]:
    """The ``Rule`` shape."""
    return {"RuleArn": rule.arn, "Priority": str(rule.priority),
            "Conditions": rule.conditions, "Actions": rule.actions, "IsDefault": False}


def describe_default(li: Listener) -> dict[str, Any]:
    """The listener's default rule."""
    return {"RuleArn": li.default_rule_arn, "Priority": "default", "Conditions": [],
            "Actions": li.default_actions, "IsDefault": True}


def _priority(value: Any) -> int:
    return int_value(value, "Priority", 1, 50000)


def _http_listener(ctx: Context, arn: str) -> Listener:
    li = find_listener(ctx, arn)
    if component(ctx).lbs[li.lb_arn].type != "application":
        raise v2_errors.OperationNotPermitted("Only application load balancers' listeners "
                                              "have rules")
    return li


def create_rule(ctx: Context) -> Any:
    """CreateRule: conditions, a priority not in use (PriorityInUse) and an action."""
    v2 = component(ctx)
    li = _http_listener(ctx, ctx.params.str("ListenerArn", required=True))
    lb = v2.lbs[li.lb_arn]
    priority = _priority(ctx.params.str("Priority", required=True))
    conditions = parse_conditions(ctx, ctx.params.structs("Conditions"))
    if not conditions:
        raise errors.ValidationError("A rule must have at least one condition")
    actions = parse_actions(ctx, ctx.params.structs("Actions"), lb.type)
    check_groups(ctx, lb, actions)
    tags = parse_tags(ctx.params.structs("Tags"))
    existing = v2.rules_of(li)
    if any(r.priority == priority for r in existing):
        raise v2_errors.PriorityInUse(f"Priority '{priority}' is currently in use")
    if sum(len(v2.rules_of(o)) for o in v2.listeners_of(lb)) >= MAX_RULES:
        raise v2_errors.TooManyRules(f"A load balancer can have at most {MAX_RULES} rules")
    prefix, _, rest = li.arn.partition(":listener/")
    rule = Rule(ctx.account_id, f"{prefix}:listener-rule/{rest}/{new_id()}", li.arn, priority,
                conditions, actions, tags)
    v2.save(rule)
    return {"Rules": [describe(rule)]}


def describe_rules(ctx: Context) -> Any:
    """DescribeRules: a listener's (default last), or by ARNs."""
    v2 = component(ctx)
    li_arn = ctx.params.str("ListenerArn")
    arns = ctx.params.strings("RuleArns")
    if bool(li_arn) == bool(arns):
        raise errors.ValidationError("Specify either ListenerArn or RuleArns")
    if li_arn:
        li = find_listener(ctx, li_arn)
        out = [describe(r) for r in v2.rules_of(li)] + [describe_default(li)]
    else:
        defaults = {li.default_rule_arn: li for li in v2.listeners.values()
                    if li.account_id == ctx.account_id}
        out = [describe_default(defaults[a]) if a in defaults else describe(find_rule(ctx, a))
               for a in arns]
    return page(ctx, out, "Rules")


def modify_rule(ctx: Context) -> Any:
    """ModifyRule: its conditions and/or actions (a default rule: its actions)."""
    v2 = component(ctx)
    arn = ctx.params.str("RuleArn", required=True)
    default = next((li for li in v2.listeners.values() if li.default_rule_arn == arn
                    and li.account_id == ctx.account_id), None)
    if default is not None:
        if ctx.params.get("Conditions") is not None:
            raise v2_errors.OperationNotPermitted("A default rule has no conditions")
        lb = v2.lbs[default.lb_arn]
        if ctx.params.get("Actions") is not None:
            actions = parse_actions(ctx, ctx.params.structs("Actions"), lb.type)
            check_groups(ctx, lb, actions)
            default.default_actions = actions
            v2.save(default)
        return {"Rules": [describe_default(default)]}
    rule = find_rule(ctx, arn)
    li = v2.listeners[rule.listener_arn]
    lb = v2.lbs[li.lb_arn]
    if ctx.params.get("Conditions") is not None:
        conditions = parse_conditions(ctx, ctx.params.structs("Conditions"))
        if not conditions:
            raise errors.ValidationError("A rule must have at least one condition")
        rule.conditions = conditions
    if ctx.params.get("Actions") is not None:
        actions = parse_actions(ctx, ctx.params.structs("Actions"), lb.type)
        check_groups(ctx, lb, actions)
        rule.actions = actions
    v2.save(rule)
    return {"Rules": [describe(rule)]}


def delete_rule(ctx: Context) -> Any:
    """DeleteRule (a default rule goes only with its listener)."""
    v2 = component(ctx)
    arn = ctx.params.str("RuleArn", required=True)
    if any(li.default_rule_arn == arn for li in v2.listeners.values()):
        raise v2_errors.OperationNotPermitted("A default rule cannot be deleted")
    v2.delete(find_rule(ctx, arn))
    return {}


def set_rule_priorities(ctx: Context) -> Any:
    """SetRulePriorities: new priorities at once (none may collide afterwards)."""
    v2 = component(ctx)
    wanted: dict[str, int] = {}
    for item in ctx.params.structs("RulePriorities"):
        arn = item.str("RuleArn", required=True)
        if any(li.default_rule_arn == arn for li in v2.listeners.values()):
            raise v2_errors.OperationNotPermitted("A default rule's priority cannot be set")
        find_rule(ctx, arn)
        if arn in wanted:
            raise errors.ValidationError(f"Rule '{arn}' is named twice")
        wanted[arn] = _priority(item.get("Priority"))
    if not wanted:
        raise errors.ValidationError("RulePriorities is required")
    changed = [v2.rules[a] for a in wanted]
    for li_arn in {r.listener_arn for r in changed}:
        taken: dict[int, str] = {}
        for rule in v2.rules_of(v2.listeners[li_arn]):
            prio = wanted.get(rule.arn, rule.priority)
            if prio in taken:
                raise v2_errors.PriorityInUse(f"Priority '{prio}' is currently in use")
            taken[prio] = rule.arn
    for rule in changed:
        rule.priority = wanted[rule.arn]
    v2.save(*changed)
    return {"Rules": [describe(r) for r in changed]}
