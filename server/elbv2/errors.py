"""The error codes of the elbv2 API (as botocore's ``elbv2`` model names them)."""

from __future__ import annotations

from server.errors import _error

LoadBalancerNotFound = _error("LoadBalancerNotFound", "LoadBalancerNotFound")
TargetGroupNotFound = _error("TargetGroupNotFound", "TargetGroupNotFound")
ListenerNotFound = _error("ListenerNotFound", "ListenerNotFound")
RuleNotFound = _error("RuleNotFound", "RuleNotFound")
DuplicateLoadBalancerName = _error("DuplicateLoadBalancerName", "DuplicateLoadBalancerName")
DuplicateTargetGroupName = _error("DuplicateTargetGroupName", "DuplicateTargetGroupName")
DuplicateListener = _error("DuplicateListener", "DuplicateListener")
PriorityInUse = _error("PriorityInUse", "PriorityInUse")
ResourceInUse = _error("ResourceInUse", "ResourceInUse")
TargetGroupAssociationLimit = _error("TargetGroupAssociationLimit",
                                     "TargetGroupAssociationLimit")
InvalidTarget = _error("InvalidTarget", "InvalidTarget")
IncompatibleProtocols = _error("IncompatibleProtocols", "IncompatibleProtocols")
InvalidConfigurationRequest = _error("InvalidConfigurationRequest",
                                     "InvalidConfigurationRequest")
InvalidLoadBalancerAction = _error("InvalidLoadBalancerAction", "InvalidLoadBalancerAction")
OperationNotPermitted = _error("OperationNotPermitted", "OperationNotPermitted")
CertificateNotFound = _error("CertificateNotFound", "CertificateNotFound")
SSLPolicyNotFound = _error("SSLPolicyNotFound", "SSLPolicyNotFound")
UnsupportedProtocol = _error("UnsupportedProtocol", "UnsupportedProtocol")
SubnetNotFound = _error("SubnetNotFound", "SubnetNotFound")
InvalidSecurityGroup = _error("InvalidSecurityGroup", "InvalidSecurityGroup")
TooManyLoadBalancers = _error("TooManyLoadBalancers", "TooManyLoadBalancers")
TooManyTargetGroups = _error("TooManyTargetGroups", "TooManyTargetGroups")
TooManyListeners = _error("TooManyListeners", "TooManyListeners")
TooManyRules = _error("TooManyRules", "TooManyRules")
TooManyTargets = _error("TooManyTargets", "TooManyTargets")
TooManyActions = _error("TooManyActions", "TooManyActions")
TooManyCertificates = _error("TooManyCertificates", "TooManyCertificates")
TooManyTags = _error("TooManyTags", "TooManyTags")
DuplicateTagKeys = _error("DuplicateTagKeys", "DuplicateTagKeys")
