"""The dashboard's view of a cloud: query calls (EC2, CloudWatch, Auto Scaling) and S3 ListBuckets,
safe to use from threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from euca2ools.client import Session
from euca2ools.exceptions import ServiceConnectionError, ServiceError

__all__ = [
    "Cloud",
    "CloudAPI",
    "ServiceConnectionError",
    "ServiceError",
    "is_unsupported",
]

# Codes a service answers with when it does not implement an action at all (as opposed to
# refusing this caller): the view then says "not available" instead of raising an alarm.
UNSUPPORTED_CODES = frozenset(
    {"InvalidAction", "UnsupportedOperation", "NotImplemented", "UnknownOperation",
     "InvalidRequest", "NoSuchBucket", "MethodNotAllowed"}
)


def is_unsupported(err: ServiceError) -> bool:
    """True when the error means the service lacks the action (not a failure of this call)."""
    return err.code in UNSUPPORTED_CODES or err.status in (404, 501)


class CloudAPI(Protocol):
    """What the dashboard needs from a cloud; tests substitute a fake with fixed data."""

    label: str

    def call(self, action: str, params: dict[str, Any] | None = None) -> Any:
        """Call an EC2 action and return the parsed response."""
        ...

    def call_service(self, service: str, action: str, params: dict[str, Any] | None = None) -> Any:
        """Call an action of another query service (``monitoring``, ``autoscaling``)."""
        ...

    def list_buckets(self) -> list[dict[str, str]]:
        """The caller's S3 buckets as ``{"name", "created"}`` dicts."""
        ...


class Cloud:
    """A cloud reached through euca2ools sessions (one per thread: requests sessions are not shared)."""

    def __init__(self, make_session: Callable[[], Session]) -> None:
        self._make_session = make_session
        self._local = threading.local()
        first = self._session()
        self.is_aws = False
        try:
            url = first.endpoint("ec2").url
            self.is_aws = "amazonaws.com" in url
        except Exception:  # noqa: BLE001 - a missing endpoint is reported on the first call
            url = "(no EC2 endpoint configured)"
        user = first.user or "(environment credentials)"
        self.label = f"{user}@{first.region or '-'}  {url}"

    @classmethod
    def from_config(cls, region: str | None = None, config_path: str | None = None,
                    **kwargs: Any) -> Cloud:
        """A cloud configured like the euca-* commands (``--region USER@REGION``, EUCA_CONFIG_PATH...)."""
        # Fail early (ConfigError) on missing credentials or EC2 endpoint, as the euca-* commands do.
        probe = Session.from_config(region, config_path, **kwargs)
        _ = probe.credentials, probe.endpoint("ec2")
        return cls(lambda: Session.from_config(region, config_path, **kwargs))

    def _session(self) -> Session:
        session: Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._make_session()
            self._local.session = session
        return session

    def call(self, action: str, params: dict[str, Any] | None = None) -> Any:
        """Call an EC2 action (errors: ServiceError, ServiceConnectionError)."""
        return self._session().call("ec2", action, params or {})

    def call_service(self, service: str, action: str, params: dict[str, Any] | None = None) -> Any:
        """Call an action of another query service, at the endpoint euca2ools.ini names for it."""
        return self._session().call(service, action, params or {})

    def list_buckets(self) -> list[dict[str, str]]:
        """S3 ListBuckets against the region's s3-url, signed like the CLI signs (SigV4)."""
        # The euca2ools client speaks the query protocol only; S3 is REST, so sign it here.
        import requests
        from defusedxml.ElementTree import fromstring
        from requests_aws4auth import AWS4Auth

        session = self._session()
        endpoint = session.endpoint("s3")
        creds = session.credentials
        auth = AWS4Auth(creds.key_id, creds.secret_key, endpoint.region_name, "s3",
                        session_token=creds.security_token)
        try:
            response = requests.get(endpoint.url.rstrip("/") + "/", auth=auth, timeout=30,
                                    verify=endpoint.verify)
        except requests.RequestException as err:
            raise ServiceConnectionError(f"object storage unreachable ({type(err).__name__})") from None
        if response.status_code >= 300:
            code, message = _s3_error(response.content, response.status_code)
            raise ServiceError(code, message, response.status_code)
        root = fromstring(response.content)
        buckets = []
        for elem in root.iter():
            if elem.tag.rsplit("}", 1)[-1] == "Bucket":
                fields = {c.tag.rsplit("}", 1)[-1]: (c.text or "") for c in elem}
                buckets.append({"name": fields.get("Name", ""),
                                "created": fields.get("CreationDate", "")})
        return buckets


def _s3_error(body: bytes, status: int) -> tuple[str, str]:
    """Code and message of an S3 ``<Error>`` body (or the HTTP status when there is none)."""
    try:
        from defusedxml.ElementTree import fromstring

        root = fromstring(body)
        code = root.findtext("Code") or f"HTTP{status}"
        return code, root.findtext("Message") or code
    except Exception:  # noqa: BLE001 - a non-XML error page still deserves a readable message
        return f"HTTP{status}", body[:200].decode("utf-8", "replace") or "no message"
