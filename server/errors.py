"""AWS errors: one class per error code, raised from logic, rendered by the protocol layer."""

from __future__ import annotations


class AWSError(Exception):
    """An error with an AWS code and HTTP status; the protocol layer renders it."""

    code = "InternalError"
    status = 400
    sender = True  # "Sender" vs "Receiver" fault in query-protocol errors

    def __init__(self, message: str = "", *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


def _error(name: str, code: str, status: int = 400, default: str = "") -> type[AWSError]:
    cls = type(name, (AWSError,), {"code": code, "status": status, "__doc__": f"AWS error {code}."})
    if default:
        def __init__(self: AWSError, message: str = default, **kw: object) -> None:
            AWSError.__init__(self, message, **kw)  # type: ignore[arg-type]
        cls.__init__ = __init__  # type: ignore[misc]
    return cls


# Generic / protocol
InternalError = _error("InternalError", "InternalError", 500, "We encountered an internal error.")
InternalError.sender = False
ServiceUnavailable = _error("ServiceUnavailable", "ServiceUnavailable", 503)
MissingParameter = _error("MissingParameter", "MissingParameter")
InvalidParameterValue = _error("InvalidParameterValue", "InvalidParameterValue")
InvalidParameterCombination = _error("InvalidParameterCombination", "InvalidParameterCombination")
InvalidParameter = _error("InvalidParameter", "InvalidParameter")
InvalidAction = _error("InvalidAction", "InvalidAction")
UnknownParameter = _error("UnknownParameter", "UnknownParameter")
MalformedQueryString = _error("MalformedQueryString", "MalformedQueryString")
DryRunOperation = _error(
    "DryRunOperation", "DryRunOperation", 412,
    "Request would have succeeded, but DryRun flag is set.")
UnsupportedOperation = _error("UnsupportedOperation", "UnsupportedOperation")
InvalidRequest = _error("InvalidRequest", "InvalidRequest")
InvalidPaginationToken = _error("InvalidPaginationToken", "InvalidPaginationToken")
ValidationError = _error("ValidationError", "ValidationError")

# Auth
MissingAuthenticationToken = _error(
    "MissingAuthenticationToken", "MissingAuthenticationToken", 403,
    "Request is missing Authentication Token")
AuthFailure = _error("AuthFailure", "AuthFailure", 401)
SignatureDoesNotMatch = _error(
    "SignatureDoesNotMatch", "SignatureDoesNotMatch", 403,
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method.")
InvalidClientTokenId = _error(
    "InvalidClientTokenId", "InvalidClientTokenId", 403,
    "The security token included in the request is invalid.")
IncompleteSignature = _error("IncompleteSignature", "IncompleteSignature", 400)
RequestExpired = _error("RequestExpired", "RequestExpired", 400)
AccessDenied = _error("AccessDenied", "AccessDenied", 403)
UnauthorizedOperation = _error("UnauthorizedOperation", "UnauthorizedOperation", 403)
OptInRequired = _error("OptInRequired", "OptInRequired", 403)
