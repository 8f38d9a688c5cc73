"""Errors raised by the euca2ools client library and commands.

Kept free of third-party imports so the fast start-up path can use them.
"""

from __future__ import annotations


class Euca2oolsError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(Euca2oolsError):
    """The configuration is missing something (endpoint, credentials) or is invalid."""


class ArgumentError(Euca2oolsError):
    """A command-line usage error found after parsing (exit status 2)."""


class LocalFileError(ArgumentError):
    """A local file the user named (on the command line or in the configuration) does not
    exist or cannot be read: a usage error, exit status 2, as every missing input file."""


class ServiceError(Euca2oolsError):
    """A web service answered with an HTTP error status (exit status 1)."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return f"error ({self.code}): {self.message}"


class ServiceConnectionError(Euca2oolsError, ConnectionError):
    """The service could not be reached (refused, DNS failure, timeout)."""
