"""Virtual MFA devices: TOTP secrets, their assignment to users, and code checks.

A virtual device (CreateVirtualMFADevice) is a random 160-bit secret that an
authenticator app holds too; both compute RFC 6238 codes from it (six digits, SHA-1,
30-second steps).  The cloud checks codes against *its own* clock
(:attr:`server.auth.identity.Identity.now`), so a cloud on a virtual or accelerated clock
asks for the codes of its own time.

Rules, as IAM and STS apply them:

* EnableMFADevice and ResyncMFADevice take two *consecutive* codes.  They are looked for
  within :data:`RESYNC_WINDOW` steps of the cloud's time; a device whose clock is off by
  more than the sign-in window is remembered as ``drift`` steps off, so later codes are
  checked around its own time (a re-synchronized device works again).
* A single code (GetSessionToken, AssumeRole) is accepted within :data:`WINDOW` steps of
  the device's time.
* No code is accepted twice, nor a code older than the newest one accepted: a step, once
  used, is spent (replaying a captured code fails).
* A user has at most :data:`DEVICES_PER_USER` devices; a device serves one user.

The secret is kept sealed at rest (``server.auth.secrets.SEALED_FIELDS``).
"""

from __future__ import annotations

import base64
import hmac
import io
import re
import secrets
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import pyotp

from server.auth.identity import IdentityError, check_path
from server.auth.roles import check_tags

if TYPE_CHECKING:
    from server.auth.identity import Identity, Principal, User

#: RFC 6238 parameters of IAM's virtual devices.
STEP = 30
DIGITS = 6
#: Steps either side of the device's time within which a sign-in code is accepted.
WINDOW = 1
#: Steps either side of the cloud's time searched for an Enable/Resync pair (10 minutes).
RESYNC_WINDOW = 20
#: IAM lets a user (or the root user) register up to eight MFA devices.
DEVICES_PER_USER = 8
#: Random bytes of a new secret (160 bits, the RFC 4226 recommendation).
SECRET_BYTES = 20
_DEVICE_NAME = re.compile(r"^[\w+=,.@-]{1,226}$")
_SERIAL = re.compile(r"^[\w+=/:,.@-]{9,256}$")
_CODE = re.compile(r"^\d{6}$")


@dataclass
class VirtualMFADevice:
    """One virtual MFA device of an account."""

    account_id: str
    #: ``arn:aws:iam::ACCOUNT:mfa/PATH+NAME``: the device's serial number.
    serial: str
    #: The Base32 seed (sealed at rest).
    secret: str
    created: float
    #: The user it is assigned to ("" while unassigned) and since when.
    user_name: str = ""
    enabled: float = 0.0
    #: The newest TOTP step accepted: codes of this step or older are spent.
    last_step: int = 0
    #: How many steps the device's clock runs ahead (+) of the cloud's, learned from the
    #: codes of EnableMFADevice or ResyncMFADevice.
    drift: int = 0
    tags: dict[str, str] = field(default_factory=dict)


def device_arn(account_id: str, path: str, name: str) -> str:
    """The serial number (ARN) of a virtual device."""
    return f"arn:aws:iam::{account_id}:mfa{path}{name}"


def check_code(value: str, what: str) -> str:
    """ValidationError unless ``value`` is six digits (IAM's and STS's constraint)."""
    if not _CODE.match(value):
        raise IdentityError("ValidationError",
                            f"1 validation error detected: Value '{value}' at '{what}' failed "
                            "to satisfy constraint: Member must have length 6 and satisfy "
                            "regular expression pattern: [\\d]*")
    return value


def check_serial(value: str, what: str = "serialNumber") -> str:
    """ValidationError unless ``value`` can be an MFA serial number."""
    if not _SERIAL.match(value):
        raise IdentityError("ValidationError",
                            f"1 validation error detected: Value '{value}' at '{what}' failed "
                            "to satisfy constraint: Member must satisfy regular expression "
                            "pattern: [\\w+=/:,.@-]+ and have length between 9 and 256")
    return value


def _invalid_code() -> IdentityError:
    return IdentityError("InvalidAuthenticationCode",
                         "Authentication code for device is not valid.", 403)


class MFADevices:
    """The virtual MFA devices of every account, by serial number."""

    KIND = "mfa_device"

    def __init__(self, identity: Identity):
        self.identity = identity
        self.devices: dict[str, VirtualMFADevice] = {}
        for _, _, doc in identity.store.load(self.KIND):
            device = VirtualMFADevice(**doc)
            self.devices[device.serial] = device

    def save(self, device: VirtualMFADevice) -> None:
        """Write a device through."""
        self.identity.store.put(self.KIND, device.serial, device.account_id, asdict(device))

    # -- devices -------------------------------------------------------------------------
    def create(self, account_id: str, name: str, path: str = "/",
               tags: dict[str, str] | None = None) -> VirtualMFADevice:
        """A new unassigned device with a fresh secret."""
        if not _DEVICE_NAME.match(name):
            raise IdentityError("ValidationError",
                                f"1 validation error detected: Value '{name}' at "
                                "'virtualMFADeviceName' failed to satisfy constraint: Member "
                                "must satisfy regular expression pattern: [\\w+=,.@-]+ and have "
                                "length at most 226")
        check_path(path)
        serial = device_arn(account_id, path, name)
        if serial in self.devices:
            raise IdentityError("EntityAlreadyExists",
                                "MFADevice entity at the same path and name already exists.",
                                409)
        tags = dict(tags or {})
        check_tags(tags, {})
        secret = base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")
        device = VirtualMFADevice(account_id, serial, secret, self.identity.now(), tags=tags)
        self.devices[serial] = device
        self.save(device)
        return device

    def get(self, account_id: str, serial: str) -> VirtualMFADevice:
        """A device of the account by serial number, or NoSuchEntity."""
        device = self.devices.get(serial)
        if device is None or device.account_id != account_id:
            raise IdentityError("NoSuchEntity",
                                f"VirtualMFADevice with serial {serial} doesn't exist.", 404)
        return device

    def delete(self, account_id: str, serial: str) -> None:
        """DeleteVirtualMFADevice: only an unassigned device can go."""
        device = self.get(account_id, serial)
        if device.user_name:
            raise IdentityError("DeleteConflict", "MFA device is still in use; deactivate it "
                                "first.", 409)
        del self.devices[serial]
        self.identity.store.delete(self.KIND, serial)

    def in_account(self, account_id: str) -> list[VirtualMFADevice]:
        """The account's devices, by serial number."""
        return sorted((d for d in self.devices.values() if d.account_id == account_id),
                      key=lambda d: d.serial)

    def for_user(self, account_id: str, user_name: str) -> list[VirtualMFADevice]:
        """The devices assigned to a user, by serial number."""
        return [d for d in self.in_account(account_id) if d.user_name == user_name]

    def assigned(self, account_id: str, user_name: str, serial: str) -> VirtualMFADevice:
        """The user's device with that serial number, or NoSuchEntity."""
        device = self.devices.get(serial)
        if device is None or device.account_id != account_id or device.user_name != user_name:
            raise IdentityError("NoSuchEntity", f"MFA Device with serial number {serial} does "
                                f"not exist for user {user_name}.", 404)
        return device

    # -- codes ---------------------------------------------------------------------------
    def _step(self) -> int:
        return int(self.identity.now() // STEP)

    @staticmethod
    def _matches(totp: pyotp.TOTP, step: int, code: str) -> bool:
        return hmac.compare_digest(totp.generate_otp(step), code)

    def _find_pair(self, device: VirtualMFADevice, code1: str, code2: str) -> int | None:
        """The step of ``code2`` when ``code1, code2`` are consecutive unspent codes of the
        device near the cloud's time (nearest first), else None."""
        totp = pyotp.TOTP(device.secret, digits=DIGITS, interval=STEP)
        now = self._step()
        for offset in sorted(range(-RESYNC_WINDOW, RESYNC_WINDOW + 1), key=abs):
            second = now + offset
            if second - 1 <= device.last_step:
                continue
            if self._matches(totp, second - 1, code1) and self._matches(totp, second, code2):
                return second
        return None

    def _synchronize(self, device: VirtualMFADevice, code1: str, code2: str) -> None:
        second = self._find_pair(device, code1, code2)
        if second is None:
            raise _invalid_code()
        offset = second - self._step()
        # A device within the sign-in window is in step; one further off keeps its offset.
        device.drift = offset if abs(offset) > WINDOW else 0
        device.last_step = second

    def enable(self, user: User, serial: str, code1: str, code2: str) -> VirtualMFADevice:
        """EnableMFADevice: assign an unassigned device to ``user`` after two consecutive
        codes prove the user holds it."""
        check_serial(serial)
        check_code(code1, "authenticationCode1")
        check_code(code2, "authenticationCode2")
        device = self.devices.get(serial)
        if device is None or device.account_id != user.account_id:
            raise IdentityError("NoSuchEntity",
                                f"VirtualMFADevice with serial {serial} doesn't exist.", 404)
        if device.user_name:
            raise IdentityError("EntityAlreadyExists", "MFA Device is already in use.", 409)
        if len(self.for_user(user.account_id, user.name)) >= DEVICES_PER_USER:
            raise IdentityError("LimitExceeded", f"Cannot exceed quota for MFADevicesPerUser: "
                                f"{DEVICES_PER_USER}", 409)
        self._synchronize(device, code1, code2)
        device.user_name = user.name
        device.enabled = self.identity.now()
        self.save(device)
        return device

    def resync(self, account_id: str, user_name: str, serial: str, code1: str,
               code2: str) -> None:
        """ResyncMFADevice: learn the device's clock offset from two consecutive codes."""
        check_serial(serial)
        check_code(code1, "authenticationCode1")
        check_code(code2, "authenticationCode2")
        device = self.assigned(account_id, user_name, serial)
        self._synchronize(device, code1, code2)
        self.save(device)

    def deactivate(self, account_id: str, user_name: str, serial: str) -> None:
        """DeactivateMFADevice: the device goes back to unassigned (its secret stays)."""
        device = self.assigned(account_id, user_name, serial)
        device.user_name, device.enabled = "", 0.0
        self.save(device)

    def verify(self, account_id: str, user_name: str, serial: str, code: str) -> None:
        """Check a sign-in code of a user's device (STS): AccessDenied as STS words it
        unless it is a fresh code of a device assigned to that user."""
        device = self.devices.get(serial)
        if device is None or device.account_id != account_id or not user_name or \
                device.user_name != user_name:
            raise IdentityError("AccessDenied", "MultiFactorAuthentication failed, unable to "
                                "validate MFA code.  Please verify your MFA serial number is "
                                "valid and associated with this user.", 403)
        totp = pyotp.TOTP(device.secret, digits=DIGITS, interval=STEP)
        center = self._step() + device.drift
        for offset in sorted(range(-WINDOW, WINDOW + 1), key=abs):
            step = center + offset
            if step > device.last_step and self._matches(totp, step, code):
                device.last_step = step
                self.save(device)
                return
        raise IdentityError("AccessDenied", "MultiFactorAuthentication failed with invalid "
                            "MFA one time pass code.", 403)

    # -- lifecycle ------------------------------------------------------------------------
    def release_user(self, account_id: str, user_name: str) -> None:
        """Unassign a deleted user's devices."""
        for device in self.for_user(account_id, user_name):
            device.user_name, device.enabled = "", 0.0
            self.save(device)

    def rename_user(self, account_id: str, old: str, new: str) -> None:
        """A renamed user keeps its devices."""
        for device in self.for_user(account_id, old):
            device.user_name = new
            self.save(device)

    def purge_account(self, account_id: str) -> None:
        """Forget a deleted account's devices."""
        for device in self.in_account(account_id):
            del self.devices[device.serial]
            self.identity.store.delete(self.KIND, device.serial)


def seed_and_qr(device: VirtualMFADevice, label_account: str) -> tuple[str, str]:
    """What CreateVirtualMFADevice returns once: the Base32 seed and a QR code PNG of the
    ``otpauth://`` URI that authenticator apps scan, each base64-encoded as IAM sends
    binary values."""
    import segno

    name = device.serial.rsplit("/", 1)[-1]
    uri = pyotp.TOTP(device.secret, digits=DIGITS, interval=STEP).provisioning_uri(
        name=f"{name}@{label_account}")
    png = io.BytesIO()
    segno.make(uri, error="m").save(png, kind="png", scale=4)
    return (base64.b64encode(device.secret.encode("ascii")).decode("ascii"),
            base64.b64encode(png.getvalue()).decode("ascii"))


def mfa_keys(serial: str, when: float, now: float, temporary: bool) -> dict[str, str]:
    """``aws:MultiFactorAuthPresent`` and ``aws:MultiFactorAuthAge`` (lower-cased) of a
    caller whose credentials were issued after the code of ``serial`` was checked at
    ``when`` (``""``/0: without MFA).

    Long-term keys (``temporary`` False) have neither key, as on AWS, so ``Bool`` tests
    on them do not match and ``BoolIfExists`` ones do; temporary credentials have
    ``MultiFactorAuthPresent`` ``true`` or ``false``, and the age (seconds since the
    code was checked) only when MFA was used.
    """
    if not temporary:
        return {}
    if not serial or not when:
        return {"aws:multifactorauthpresent": "false"}
    return {"aws:multifactorauthpresent": "true",
            "aws:multifactorauthage": str(max(0, int(now - when)))}


def session_keys(identity: Identity, principal: Principal, now: float) -> dict[str, str]:
    """:func:`mfa_keys` of a request's caller (its STS session, if it signs with one)."""
    if not principal.session_id:
        return {}
    session = identity.sessions.by_key.get(principal.access_key)
    if session is None:
        return mfa_keys("", 0.0, now, True)
    return mfa_keys(session.mfa_serial, session.mfa_time, now, True)
