"""euca2ools.ini configuration, resolved exactly as euca2ools 3.x does.

Files: the packaged ``conf/aws.ini`` (always first, lowest precedence), then either
``EUCA_CONFIG_PATH`` (colon-separated globs) or ``/etc/euca2ools/euca2ools.ini``,
``/etc/euca2ools/conf.d/*.ini``, ``~/.euca/*.ini``.  Later files win.

Sections are ``[global]``, ``[region NAME]`` and ``[user NAME]``; names may be
namespaced (``aws:us-east-1``), contain ``*`` wildcards (``aws:*``, ``*``) and values
may redirect with ``use SECTION [OPTION]``.

Only the standard library is imported here: the fast start-up path uses it.
"""

from __future__ import annotations

import configparser
import glob
import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover - typing only
    from collections.abc import Mapping

    _Seen = frozenset[tuple[str, str | None, str]]

DEFAULT_PATHS = ("/etc/euca2ools/euca2ools.ini", "/etc/euca2ools/conf.d/*.ini", "~/.euca/*.ini")
PACKAGED_AWS_INI = os.path.join(os.path.dirname(__file__), "conf", "aws.ini")

# Service name -> environment variable holding its URL (reference §3.4).
URL_ENVVARS = {
    "ec2": "EC2_URL",
    "s3": "S3_URL",
    "iam": "AWS_IAM_URL",
    "autoscaling": "AWS_AUTO_SCALING_URL",
    "elasticloadbalancing": "AWS_ELB_URL",
    "monitoring": "AWS_CLOUDWATCH_URL",
    "cloudformation": "AWS_CLOUDFORMATION_URL",
    "sts": "TOKEN_URL",
    "bootstrap": "EUCA_BOOTSTRAP_URL",
    "properties": "EUCA_PROPERTIES_URL",
}
# Further variables read when the main one is unset (the EUCA_ spelling of the load
# balancing endpoint is accepted alongside euca2ools' AWS_ELB_URL).
URL_ENVVAR_ALIASES = {
    "elasticloadbalancing": ("EUCA_ELB_URL",),
}
SERVICE_DESCRIPTIONS = {
    "ec2": "compute",
    "s3": "object storage",
    "iam": "identity",
    "autoscaling": "auto-scaling",
    "elasticloadbalancing": "load balancing",
    "monitoring": "cloud watch",
    "cloudformation": "cloud formation",
    "sts": "token",
    "bootstrap": "bootstrap",
    "properties": "cloud properties",
}
REGION_ENVVARS = ("EUCA_DEFAULT_REGION", "AWS_DEFAULT_REGION")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def parse_bool(value: str | bool | None, default: bool = False) -> bool:
    """Read an ini boolean (true/1/yes/on, false/0/no/off)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def split_url(url: str) -> tuple[str | None, str]:
    """Split ``REGION::URL`` into (region, url); a plain URL gives (None, url)."""
    if "::" in url:
        region, _, rest = url.partition("::")
        return (region or None), rest
    return None, url


def config_files(config_path: str | None = None) -> list[str]:
    """The ini files to read, in order; the packaged AWS regions always come first."""
    raw = config_path if config_path is not None else os.environ.get("EUCA_CONFIG_PATH")
    patterns = raw.split(":") if raw else list(DEFAULT_PATHS)
    files = [PACKAGED_AWS_INI]
    for pattern in patterns:
        if not pattern:
            continue
        pattern = os.path.expandvars(os.path.expanduser(pattern))
        found = sorted(glob.glob(pattern))
        where = "EUCA_CONFIG_PATH" if config_path is None else "configuration file"
        # A glob may match nothing, but a file the user named must exist: a typo in
        # EUCA_CONFIG_PATH would otherwise run with no (or another) configuration.
        if raw and not found and not glob.has_magic(pattern):
            from .exceptions import ConfigError

            raise ConfigError(f"{where}: no such file: {pattern}")
        if raw and not glob.has_magic(pattern) and os.path.isdir(pattern):
            from .exceptions import ConfigError

            raise ConfigError(f"{where}: is a directory, not a file: {pattern}")
        # A glob (conf.d/*.ini) may also match directories: those are not files to read.
        files.extend(f for f in found if not os.path.isdir(f))
    return files


def _read_files(parser: configparser.RawConfigParser, files: list[str]) -> None:
    """Read every file into ``parser``; a file that cannot be opened or parsed is one line
    of error (configparser's own ``read`` skips unreadable files, and its parse errors
    span several lines)."""
    from .exceptions import ConfigError

    for path in files:
        try:
            with open(path, encoding="utf-8") as handle:
                parser.read_file(handle, path)
        except OSError as err:
            raise ConfigError(f"cannot read configuration file {path}: "
                              f"{err.strerror or err}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"cannot read configuration file {path}: not UTF-8 text") from None
        except configparser.MissingSectionHeaderError as err:
            raise ConfigError(f"unable to read configuration: {path}, line {err.lineno}: "
                              "a section header ([global], [region NAME] or [user NAME]) "
                              "must come first") from None
        except configparser.ParsingError as err:
            lines = ", ".join(str(n) for n, _ in err.errors)
            raise ConfigError(f"unable to read configuration: {path}: cannot parse line "
                              f"{lines}") from None
        except configparser.Error as err:
            raise ConfigError("unable to read configuration: "
                              + " ".join(str(err).split())) from None


def _match_score(pattern: str, name: str) -> int | None:
    """How specifically section ``pattern`` matches ``name`` (None: no match)."""
    if pattern == name:
        return 1_000_000
    if "*" not in pattern:
        return None
    # A lone "*" is the last-resort default; otherwise each ':' part may be a glob.
    if pattern == "*":
        return 0
    p_parts, n_parts = pattern.split(":"), name.split(":")
    if len(p_parts) != len(n_parts):
        # "aws:*" also covers deeper names such as "aws:gov:x".
        if p_parts[-1] != "*" or len(p_parts) > len(n_parts):
            return None
        n_parts = n_parts[: len(p_parts) - 1] + [":".join(n_parts[len(p_parts) - 1 :])]
    import fnmatch  # only needed for wildcard sections

    for p, n in zip(p_parts, n_parts, strict=True):
        if not fnmatch.fnmatchcase(n, p):
            return None
    return len(pattern.replace("*", ""))


class Config:
    """The merged euca2ools configuration files and lookups over them."""

    def __init__(self, files: list[str] | None = None, config_path: str | None = None) -> None:
        self.files = files if files is not None else config_files(config_path)
        parser = configparser.RawConfigParser(default_section="\x00none")
        parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
        # Files that do not parse are an error the user must see, not silently skipped.
        _read_files(parser, self.files)
        self.globals: dict[str, str] = {}
        self.regions: dict[str, dict[str, str]] = {}
        self.users: dict[str, dict[str, str]] = {}
        for section in parser.sections():
            values = dict(parser.items(section))
            kind, _, name = section.partition(" ")
            name = name.strip()
            if kind in ("region", "user") and ("@" in name or "" in name.split(":")):
                from .exceptions import ConfigError

                raise ConfigError(f"invalid section name [{section}]: names may not contain "
                                  "'@' or empty ':'-separated parts")
            if kind == "global" and not name:
                self.globals.update(values)
            elif kind == "region" and name:
                self.regions.setdefault(name, {}).update(values)
            elif kind == "user" and name:
                self.users.setdefault(name, {}).update(values)

    # -- section lookups ------------------------------------------------------------
    def _table(self, kind: str) -> dict[str, dict[str, str]]:
        return self.regions if kind == "region" else self.users

    def resolve_name(self, kind: str, name: str) -> str:
        """Resolve a bare name (``us-east-1``) to the one namespaced section it means."""
        table = self._table(kind)
        if name in table or "*" in name:
            return name
        matches = sorted(s for s in table if "*" not in s and s.split(":")[-1] == name)
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            from .exceptions import ConfigError

            raise ConfigError(
                f"{kind} name '{name}' is ambiguous; it could refer to: {', '.join(matches)}"
            )
        return name

    def get(self, kind: str, name: str | None, option: str, _seen: _Seen = frozenset()) -> str | None:
        """An option from the best-matching ``[kind name]`` section (wildcards as fallbacks)."""
        if kind == "global":
            value = self.globals.get(option)
        else:
            if name is None:
                return None
            table = self._table(kind)
            scored = []
            for pattern in table:
                score = _match_score(pattern, name)
                if score is not None and option in table[pattern]:
                    scored.append((score, pattern))
            if not scored:
                return None
            value = table[max(scored)[1]][option]
        if value is not None and value.startswith("use "):
            return self._redirect(kind, name, option, value, _seen)
        return value

    def _redirect(self, kind: str, name: str | None, option: str, value: str, seen: _Seen) -> str | None:
        """Follow ``use [region|user] OTHER [OPTION]`` redirections, detecting loops."""
        from .exceptions import ConfigError

        words = value.split()[1:]
        if words and words[0] in ("region", "user", "global"):
            other_kind = words.pop(0)
        else:
            other_kind = kind
        if other_kind == "global":
            other_name, other_option = None, (words[0] if words else option)
        else:
            if not words:
                raise ConfigError(f"invalid redirection '{value}'")
            other_name = words[0]
            other_option = words[1] if len(words) > 1 else option
        key = (other_kind, other_name, other_option)
        if key in seen or (other_kind, other_name, other_option) == (kind, name, option):
            raise ConfigError(f"configuration redirection loop at '{value}'")
        return self.get(other_kind, other_name, other_option, seen | {key, (kind, name, option)})

    def get_global(self, option: str) -> str | None:
        """An option from ``[global]``."""
        return self.get("global", None, option)

    def get_region(self, region: str | None, option: str) -> str | None:
        """An option of a region section."""
        return self.get("region", region, option)

    def get_user(self, user: str | None, option: str) -> str | None:
        """An option of a user section."""
        return self.get("user", user, option)

    def region_names(self) -> list[str]:
        """Concrete (non-wildcard) region section names."""
        return sorted(r for r in self.regions if "*" not in r)


def parse_region_spec(spec: str | None) -> tuple[str | None, str | None]:
    """Split ``USER@REGION`` / ``USER@`` / ``REGION`` into (user, region)."""
    if not spec:
        return None, None
    if "@" in spec:
        user, _, region = spec.rpartition("@")
        return (user or None), (region or None)
    return None, spec


def select_region_user(
    config: Config, region_spec: str | None = None, environ: Mapping[str, str] | None = None
) -> tuple[str | None, str | None]:
    """Choose (region, user) with euca2ools' precedence (reference §3.3)."""
    env = os.environ if environ is None else environ
    user, region = parse_region_spec(region_spec)
    for var in REGION_ENVVARS:
        e_user, e_region = parse_region_spec(env.get(var))
        user = user or e_user
        region = region or e_region
    if region is None:
        region = config.get_global("default-region")
    if region is not None:
        region = config.resolve_name("region", region)
    if user is None and region is not None:
        user = config.get_region(region, "user")
    if user is not None:
        user = config.resolve_name("user", user)
    return region, user


class Credentials:
    """An access key pair, with an optional session token."""

    __slots__ = ("key_id", "secret_key", "security_token", "source")

    def __init__(self, key_id: str, secret_key: str, security_token: str | None = None, source: str = "") -> None:
        self.key_id = key_id
        self.secret_key = secret_key
        self.security_token = security_token
        self.source = source


def _expired(stamp: str) -> bool:
    """Whether an ISO 8601 AWS_CREDENTIAL_EXPIRATION time has passed."""
    import datetime

    text = stamp.strip().replace("Z", "+00:00")
    when = datetime.datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when <= datetime.datetime.now(datetime.UTC)


def find_credentials(
    config: Config,
    user: str | None,
    key_id: str | None = None,
    secret_key: str | None = None,
    security_token: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Credentials:
    """Credentials by euca2ools' precedence: -I/-S, environment, AWS_CREDENTIAL_FILE, [user]."""
    from .exceptions import ArgumentError, ConfigError

    env = os.environ if environ is None else environ
    if key_id or secret_key:
        if not key_id:
            raise ArgumentError("missing access key ID; please supply one with -I")
        if not secret_key:
            raise ArgumentError("missing secret key; please supply one with -S")
        return Credentials(key_id, secret_key, security_token, "command line")
    e_key = env.get("AWS_ACCESS_KEY_ID") or env.get("AWS_ACCESS_KEY")
    e_secret = env.get("AWS_SECRET_ACCESS_KEY") or env.get("AWS_SECRET_KEY")
    if e_key and e_secret:
        expiration = env.get("AWS_CREDENTIAL_EXPIRATION")
        if expiration and _expired(expiration):
            raise ConfigError("credentials have expired")
        return Credentials(e_key, e_secret, security_token or env.get("AWS_SECURITY_TOKEN"), "environment")
    cred_file = env.get("AWS_CREDENTIAL_FILE")
    if cred_file:
        values: dict[str, str] = {}
        try:
            with open(os.path.expanduser(cred_file), encoding="utf-8") as handle:
                for line in handle:
                    line = line.split("#", 1)[0].strip()
                    if "=" in line:
                        k, _, v = line.partition("=")
                        values[k.strip()] = v.strip()
        except OSError as err:
            raise ConfigError(f"{err.strerror}: {cred_file}") from None
        if values.get("AWSAccessKeyId") and values.get("AWSSecretKey"):
            return Credentials(values["AWSAccessKeyId"], values["AWSSecretKey"], security_token, "file")
    if user is not None:
        c_key = config.get_user(user, "key-id")
        c_secret = config.get_user(user, "secret-key")
        if c_key and c_secret:
            return Credentials(c_key, c_secret, security_token, f"user {user}")
        if not c_key and not c_secret:
            # A user named (--region USER@REGION, or the region's user) the files do not
            # describe: say which, rather than that no key was given at all.
            known = ", ".join(sorted(u for u in config.users if "*" not in u)) or "none"
            raise ConfigError(f"missing access key ID: user '{user}' has no key-id and "
                              f"secret-key in the configuration (configured users: {known})")
    raise ConfigError(
        "missing access key ID; please supply one with -I, the AWS_ACCESS_KEY_ID "
        "environment variable, or key-id in a [user] section of euca2ools.ini "
        "(set EUCA_CONFIG_PATH to the file, and pick the user with --region USER@REGION)"
    )


class Endpoint:
    """A resolved service endpoint: URL, SigV4 region name and TLS verification."""

    __slots__ = ("service", "url", "region_name", "verify")

    def __init__(self, service: str, url: str, region_name: str, verify: bool | str) -> None:
        self.service = service
        self.url = url
        self.region_name = region_name
        self.verify = verify


def find_endpoint(
    config: Config,
    service: str,
    region: str | None,
    url: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Endpoint:
    """The endpoint for ``service`` by euca2ools' precedence: -U, env var, ``<svc>-url``."""
    from .exceptions import ConfigError

    env = os.environ if environ is None else environ
    sig_region: str | None = None
    chosen = url or env.get(URL_ENVVARS.get(service, ""), "") or None
    for alias in URL_ENVVAR_ALIASES.get(service, ()):
        chosen = chosen or env.get(alias) or None
    if chosen is None and region is not None:
        chosen = config.get_region(region, f"{service}-url")
    if not chosen:
        with_svc = [r for r in config.region_names() if config.get_region(r, f"{service}-url")]
        msg = (
            f'No {service} endpoint to connect to was given. {service} endpoints may be '
            f'specified in a config file with "{service}-url", with the '
            f"{URL_ENVVARS.get(service, '-U')} environment variable, or with -U."
        )
        if with_svc:
            msg += f" Configured regions with {service} endpoints are: {', '.join(with_svc)}"
        raise ConfigError(msg)
    sig_region, chosen = split_url(chosen)
    if sig_region is None and region is not None:
        sig_region = config.get_region(region, "name") or region.split(":")[-1]
    if sig_region is None:
        sig_region = env.get("AWS_AUTH_REGION") or f"undefined-{os.getpid()}"
    verify_raw = config.get_region(region, "verify-ssl") if region else None
    if verify_raw is None and region:
        verify_raw = config.get_region(region, "verify-tls")
    try:
        verify: bool | str = parse_bool(verify_raw, False)
    except ValueError:
        verify = False
    # With verification on, ``ca-bundle`` (region, else global) names the CA certificates to
    # trust instead of the system's, e.g. a private cloud's own CA.
    bundle = (config.get_region(region, "ca-bundle") if region else None) \
        or config.get_global("ca-bundle")
    if verify and bundle:
        verify = os.path.expanduser(bundle)
        if not os.path.isabs(verify):  # beside the file that names it (a credentials archive)
            for name in config.files:
                candidate = os.path.join(os.path.dirname(os.path.abspath(name)), verify)
                if os.path.exists(candidate):
                    verify = candidate
                    break
    return Endpoint(service, chosen, sig_region, verify)


def debug_enabled(config: Config) -> bool:
    """Whether ``[global] debug`` asks for tracebacks (``color`` counts as true)."""
    value = config.get_global("debug")
    if value is None:
        return False
    if value.strip().lower() == "color":
        return True
    try:
        return parse_bool(value)
    except ValueError:
        return False

