"""The error codes of the ELB API (as botocore's ``elb`` model names them)."""

from __future__ import annotations

from server.errors import _error

LoadBalancerNotFound = _error("LoadBalancerNotFound", "LoadBalancerNotFound")
DuplicateLoadBalancerName = _error("DuplicateLoadBalancerName", "DuplicateLoadBalancerName")
TooManyLoadBalancers = _error("TooManyLoadBalancers", "TooManyLoadBalancers")
InvalidInstance = _error("InvalidInstance", "InvalidInstance")
ListenerNotFound = _error("ListenerNotFound", "ListenerNotFound")
DuplicateListener = _error("DuplicateListener", "DuplicateListener")
CertificateNotFound = _error("CertificateNotFound", "CertificateNotFound")
InvalidConfigurationRequest = _error("InvalidConfigurationRequest",
                                     "InvalidConfigurationRequest", 409)
PolicyNotFound = _error("PolicyNotFound", "PolicyNotFound")
PolicyTypeNotFound = _error("PolicyTypeNotFound", "PolicyTypeNotFound")
DuplicatePolicyName = _error("DuplicatePolicyName", "DuplicatePolicyName")
TooManyPolicies = _error("TooManyPolicies", "TooManyPolicies")
InvalidSubnet = _error("InvalidSubnet", "InvalidSubnet")
SubnetNotFound = _error("SubnetNotFound", "SubnetNotFound")
InvalidSecurityGroup = _error("InvalidSecurityGroup", "InvalidSecurityGroup")
InvalidScheme = _error("InvalidScheme", "InvalidScheme")
TooManyTags = _error("TooManyTags", "TooManyTags")
DuplicateTagKeys = _error("DuplicateTagKeys", "DuplicateTagKeys")
LoadBalancerAttributeNotFound = _error("LoadBalancerAttributeNotFound",
                                       "LoadBalancerAttributeNotFound")
UnsupportedProtocol = _error("UnsupportedProtocol", "UnsupportedProtocol")
OperationNotPermitted = _error("OperationNotPermitted", "OperationNotPermitted")
