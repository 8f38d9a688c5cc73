"""A small client library for Eucalyptus and AWS query APIs (used by the CLI and the TUI).

Usage::

    from euca2ools.client import Session
    from euca2ools.exceptions import ServiceError, ServiceConnectionError, ConfigError

    session = Session.from_config()                  # same rules as the euca-* commands
    session = Session.from_config("admin@localhost", config_path="/path/euca2ools.ini")
    result = session.call("ec2", "DescribeInstances", {"InstanceId": ["i-1"]})
    for reservation in result["reservationSet"]:
        for inst in reservation["instancesSet"]:
            print(inst["instanceId"], inst["instanceState"]["name"])

``Session.from_config(region=None, config_path=None, *, url=None, access_key_id=None,
secret_key=None, security_token=None)``
    ``region`` is euca2ools' ``USER@REGION`` / ``REGION`` / ``USER@`` syntax (``None``:
    ``EUCA_DEFAULT_REGION``/``AWS_DEFAULT_REGION``, then ``[global] default-region``).
    ``config_path`` is a colon-separated list of globs replacing the default search
    path (like ``EUCA_CONFIG_PATH``); the packaged AWS regions (``aws:us-east-1``...)
    are always available.  ``url`` applies to every service (like ``-U``; may be
    ``REGION::URL``).  Credentials: arguments, then ``AWS_ACCESS_KEY_ID``/
    ``AWS_SECRET_ACCESS_KEY``, then ``AWS_CREDENTIAL_FILE``, then the ``[user]`` section.

``session.call(service, action, params) -> dict``
    ``service`` is a SigV4 service name (``ec2``, ``iam``, ``sts``, ``autoscaling``,
    ``elasticloadbalancing``, ``monitoring``, ``cloudformation``).  ``params`` may be
    flat (``{"InstanceId.1": "i-1"}``) or nested (``{"InstanceId": ["i-1"],
    "Filter": [{"Name": "x", "Value": ["y"]}]}``; lists become ``.1``, ``.2``...,
    dicts ``Prefix.Key``, booleans ``true``/``false``, ``None`` is dropped,
    :data:`EMPTY` sends an empty value).  The result is the response XML as nested
    dicts/lists with the ``...Response``/``...Result`` wrapper, ``requestId`` and
    ``ResponseMetadata`` stripped; ``item``/``member`` lists (``instancesSet``,
    ``Users``...) are Python lists.  Requests are POSTed and signed with SigV4
    (requests-aws4auth); HTTP 500/503 and timeouts are retried with exponential
    backoff and jitter (``[global] max-retries``, default 2; ``timeout``, default 30 s).

Errors: :class:`~euca2ools.exceptions.ServiceError` (``.code``, ``.message``,
``.status``) for an HTTP error answer, :class:`~euca2ools.exceptions.ServiceConnectionError`
(a ``ConnectionError``) when the endpoint cannot be reached, and
:class:`~euca2ools.exceptions.ConfigError` when no endpoint or credentials are configured.

Other helpers: ``session.endpoint(service)`` (URL, SigV4 region), ``session.region``,
``session.user``, ``session.account_id``, ``session.credentials``, ``session.config``.
"""

from __future__ import annotations

import os

from . import __version__
from .config import (
    Config,
    Credentials,
    Endpoint,
    find_credentials,
    find_endpoint,
    select_region_user,
)
from .exceptions import ServiceConnectionError, ServiceError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover - importing typing costs start-up time
    from typing import Any

API_VERSIONS = {
    "ec2": "2015-10-01",
    "iam": "2010-05-08",
    "sts": "2011-06-15",
    "autoscaling": "2011-01-01",
    "elasticloadbalancing": "2012-06-01",
    "monitoring": "2010-08-01",
    "cloudformation": "2010-05-15",
    "bootstrap": "2015-01-01",
    "properties": "eucalyptus",
}


class _Empty:
    """Sentinel: send the parameter with an empty value (``Name=``)."""

    def __repr__(self) -> str:
        return "EMPTY"


EMPTY = _Empty()


def _scalar(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is EMPTY:
        return ""
    return str(value)


def flatten_params(params: dict[str, Any], prefix: str = "", out: dict[str, str] | None = None) -> dict[str, str]:
    """Flatten nested params into AWS query form (``A.1``, ``A.B``); None and '' are dropped."""
    if out is None:
        out = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if value is None or (isinstance(value, str) and value == ""):
            continue
        if isinstance(value, dict):
            flatten_params(value, name + ".", out)
        elif isinstance(value, (list, tuple)):
            for index, sub in enumerate(value, 1):
                if isinstance(sub, dict):
                    flatten_params(sub, f"{name}.{index}.", out)
                elif sub is not None:
                    out[f"{name}.{index}"] = _scalar(sub)
        else:
            out[name] = _scalar(value)
    return out


def user_agent() -> str:
    """euca2ools' User-Agent string."""
    import platform

    return (
        f"euca2ools/{__version__} ({platform.python_implementation()} {platform.python_version()}; "
        f"{platform.system()} {platform.release()}; {platform.machine()})"
    )


def _redact(params: dict[str, str]) -> dict[str, str]:
    return {
        k: ("<redacted>" if ("password" in k.lower() or "secret" in k.lower()) else v)
        for k, v in params.items()
    }


class Session:
    """Configuration, credentials and signed HTTP calls for one region and user."""

    def __init__(
        self,
        config: Config,
        region: str | None,
        user: str | None,
        *,
        url: str | None = None,
        urls: dict[str, str] | None = None,
        access_key_id: str | None = None,
        secret_key: str | None = None,
        security_token: str | None = None,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.config = config
        self.region = region
        self.user = user
        self._url = url
        self._urls = dict(urls or {})
        self._key_args = (access_key_id, secret_key, security_token)
        self._environ = environ
        self._credentials: Credentials | None = None
        self._http: Any = None
        self.debug = False

    @classmethod
    def from_config(
        cls,
        region: str | None = None,
        config_path: str | None = None,
        *,
        url: str | None = None,
        access_key_id: str | None = None,
        secret_key: str | None = None,
        security_token: str | None = None,
    ) -> Session:
        """A session configured like the euca-* commands (see the module docstring)."""
        config = Config(config_path=config_path)
        chosen_region, user = select_region_user(config, region)
        return cls(
            config,
            chosen_region,
            user,
            url=url,
            access_key_id=access_key_id,
            secret_key=secret_key,
            security_token=security_token,
        )

    # -- configuration ------------------------------------------------------------------
    @property
    def credentials(self) -> Credentials:
        """The access key to sign with (resolved on first use)."""
        if self._credentials is None:
            key_id, secret, token = self._key_args
            self._credentials = find_credentials(
                self.config, self.user, key_id, secret, token, environ=self._environ
            )
        return self._credentials

    @property
    def account_id(self) -> str | None:
        """The selected user's ``account-id`` (or ``EC2_USER_ID``)."""
        env = os.environ if self._environ is None else self._environ
        return env.get("EC2_USER_ID") or self.config.get_user(self.user, "account-id")

    def endpoint(self, service: str) -> Endpoint:
        """The resolved endpoint of ``service``."""
        url = self._urls.get(service) or self._url
        return find_endpoint(self.config, service, self.region, url, environ=self._environ)

    def _max_retries(self) -> int:
        try:
            return int(self.config.get_global("max-retries") or 2)
        except ValueError:
            return 2

    def _timeout(self) -> float:
        try:
            return float(self.config.get_global("timeout") or 30)
        except ValueError:
            return 30.0

    # -- requests -----------------------------------------------------------------------
    def call(self, service: str, action: str, params: dict[str, Any] | None = None) -> Any:
        """POST a signed query request and return the parsed, unwrapped response."""
        import random
        import time

        import requests
        from requests_aws4auth import AWS4Auth

        from .xmlparse import parse_error, parse_response

        endpoint = self.endpoint(service)
        creds = self.credentials
        data = {"Action": action, "Version": API_VERSIONS.get(service, "")}
        data.update(flatten_params(params or {}))
        auth = AWS4Auth(
            creds.key_id,
            creds.secret_key,
            endpoint.region_name,
            service,
            session_token=creds.security_token,
        )
        if self._http is None:
            self._http = requests.Session()
            self._http.headers["User-Agent"] = user_agent()
        log = _logger() if self.debug else None
        if log:
            log.debug("request: %s %s %s", endpoint.url, endpoint.region_name, _redact(data))
        retries = self._max_retries()
        attempt = redirects = 0
        url = endpoint.url
        while True:
            try:
                # Redirects are followed here, not by requests, so each hop is re-signed.
                response = self._http.post(
                    url,
                    data=data,
                    auth=auth,
                    timeout=self._timeout(),
                    verify=endpoint.verify,
                    allow_redirects=False,
                )
            except requests.Timeout:
                if attempt < retries:
                    attempt += 1
                    time.sleep(random.uniform(0, min(15.0, 0.25 * 2**attempt)))
                    continue
                raise ServiceConnectionError("request timed out") from None
            except requests.ConnectionError as err:
                raise ServiceConnectionError(f"connection error ({_reason(err)})") from None
            if response.status_code in (500, 503) and attempt < retries:
                attempt += 1
                time.sleep(random.uniform(0, min(15.0, 0.25 * 2**attempt)))
                continue
            location = response.headers.get("Location")
            if response.status_code in (301, 302, 307, 308) and location and redirects < 5:
                from urllib.parse import urljoin

                redirects += 1
                url = urljoin(url, location)
                continue
            break
        if log:
            log.debug("response: %s %s", response.status_code, response.content[:4000])
        if response.status_code >= 300:
            code, message = parse_error(response.content, response.status_code, response.reason or "")
            raise ServiceError(code, message, response.status_code)
        return parse_response(response.content)


def _reason(err: Exception) -> str:
    """A short reason for a connection failure (the innermost cause)."""
    cause: BaseException | None = err
    while cause is not None and cause.__context__ is not None and not str(cause.__context__) == "":
        cause = cause.__context__
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
    text = str(err.args[0]) if err.args else str(err)
    return text


def _logger() -> Any:
    """The debug logger, writing euca2ools' log format to stderr."""
    import logging

    log = logging.getLogger("euca2ools")
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.DEBUG)
    return log
