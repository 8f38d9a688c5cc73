"""Virtual MFA devices in tests: an authenticator app's codes, and a device enabled for a user.

Codes are computed with pyotp from the seed the cloud returned, at the cloud's time (the
test clouds run on the wall clock).  :class:`Authenticator` hands out codes the way an
authenticator app does: each one of a step not used before, never ahead of the cloud by
more than the one step the sign-in window allows, so a step boundary crossed between
computing a code and the cloud checking it changes nothing.
"""

from __future__ import annotations

import time
from typing import Any

import pyotp


class Authenticator:
    """An authenticator app holding one device's seed (``ahead``: its clock's offset in
    30-second steps)."""

    def __init__(self, seed: bytes, ahead: int = 0) -> None:
        self.totp = pyotp.TOTP(seed.decode("ascii"))
        self.ahead = ahead
        self.last = 0

    def step(self) -> int:
        """The device's current TOTP step."""
        return int(time.time() // 30) + self.ahead

    def pair(self) -> tuple[str, str]:
        """Two consecutive codes, as EnableMFADevice and ResyncMFADevice want."""
        second = max(self.step(), self.last + 2)
        self.last = second
        return self.totp.generate_otp(second - 1), self.totp.generate_otp(second)

    def code(self) -> str:
        """The next unused code."""
        self.last = max(self.step(), self.last + 1)
        return str(self.totp.generate_otp(self.last))


def enable_device(iam: Any, name: str, user: str, **kwargs: Any) -> tuple[str, Authenticator]:
    """A virtual device (boto3 IAM client ``iam``) enabled for ``user``: its serial and an
    authenticator for it."""
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName=name, **kwargs)
    serial = created["VirtualMFADevice"]["SerialNumber"]
    app = Authenticator(created["VirtualMFADevice"]["Base32StringSeed"])
    code1, code2 = app.pair()
    iam.enable_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1=code1,
                          AuthenticationCode2=code2)
    return serial, app


def wrong_code(app: Authenticator) -> str:
    """A well-formed code that is none of the device's codes near the current time."""
    near = {app.totp.generate_otp(app.step() + offset) for offset in range(-3, 4)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444", "555555",
                            "666666", "777777") if c not in near)
