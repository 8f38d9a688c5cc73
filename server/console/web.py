"""The web console at ``/console/``: sign-up, the administrator's approvals, log-in and the
credentials download.

Pages are rendered here, without scripts; every form carries a CSRF token that must match
the ``euca-csrf`` cookie (double submit; the cookies are SameSite=Strict and HttpOnly, and
Secure over HTTPS).  Every response forbids scripts, framing and foreign resources by its
Content-Security-Policy; over HTTPS it sets HSTS; plain HTTP is served only to loopback
clients (others are sent to the HTTPS endpoint).  Log-in sessions expire by the cloud's
clock; repeated failed log-ins lock a user out for a while.

A user with an assigned MFA device logs in in two steps, as on AWS's console: the right
password leads to a page asking for a code of the device (for a few minutes, tied to
that browser by a cookie); only a right code starts the session, and a wrong one counts
as a failed log-in.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from server.auth.identity import ADMIN_ACCOUNT, IdentityError
from server.auth.login import check_password, mfa_required, verify_sign_in_code
from server.console import pages
from server.console.passwords import Lockout
from server.console.signups import Signups
from server.protocol.http import Request, Response

if TYPE_CHECKING:
    from server.cloud import Cloud

log = logging.getLogger(__name__)

SESSION_COOKIE, CSRF_COOKIE, MFA_COOKIE = "euca-session", "euca-csrf", "euca-mfa"
#: How long the MFA step of a log-in waits for its code (seconds of the cloud's clock).
MFA_STEP_SECONDS = 300.0
ADMIN_PASSWORD_FILE = "admin-password"
#: Largest form body accepted.
MAX_FORM = 16 * 1024
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
#: A scrypt hash to check against when the user does not exist (equal timing).
_DUMMY_HASH = ("scrypt$16384$8$1$00000000000000000000000000000000$"
               "0000000000000000000000000000000000000000000000000000000000000000")


@dataclass
class WebSession:
    """One logged-in browser."""

    account_id: str
    account_name: str
    user: str
    expires: float


@dataclass
class PendingLogin:
    """A browser whose password was right, waiting to give its MFA code."""

    account_id: str
    account_name: str
    user: str
    expires: float


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class Console:
    """The ``/console/`` pages (an app claimer: served on the plain and HTTPS endpoints)."""

    path = ""
    signing_names: tuple[str, ...] = ()

    def __init__(self, cloud: Cloud, signups: Signups):
        self.cloud = cloud
        self.signups = signups
        self.sessions: dict[str, WebSession] = {}
        self.pending: dict[str, PendingLogin] = {}
        self.lockout = Lockout(cloud.clock.now)
        #: How long a log-in lasts (seconds of the cloud's clock).
        self.session_seconds = float(cloud.config.cloud["console_session_seconds"])

    def claims(self, request: Request) -> bool:
        """Requests under ``/console``."""
        return request.path == "/console" or request.path.startswith("/console/")

    # -- plumbing ------------------------------------------------------------------------
    def _headers(self, request: Request) -> list[tuple[str, str]]:
        headers = [("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
                   ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer"),
                   ("Cache-Control", "no-store")]
        if self._https(request):
            headers.append(("Strict-Transport-Security", "max-age=31536000"))
        return headers

    @staticmethod
    def _https(request: Request) -> bool:
        return request.scope.get("scheme") == "https"

    def _cookie(self, request: Request, name: str, value: str, max_age: int | None = None) -> str:
        parts = [f"{name}={value}", "Path=/console", "HttpOnly", "SameSite=Strict"]
        if self._https(request):
            parts.append("Secure")
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        return "; ".join(parts)

    @staticmethod
    def _cookies(request: Request) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in request.headers:
            if key.lower() == "cookie":
                for part in value.split(";"):
                    name, _, val = part.strip().partition("=")
                    out.setdefault(name, val)
        return out

    def _html(self, request: Request, status: int, title: str, body: str, *,
              session: WebSession | None = None, csrf: str = "",
              cookies: list[str] | None = None) -> Response:
        who = f"{session.user} @ {session.account_name}" if session else ""
        headers = self._headers(request) + [("Set-Cookie", c) for c in cookies or []]
        return Response(status, pages.page(title, body, who=who, csrf=csrf), headers,
                        content_type="text/html; charset=utf-8")

    def _redirect(self, request: Request, location: str,
                  cookies: list[str] | None = None) -> Response:
        headers = self._headers(request) + [("Location", location)]
        headers += [("Set-Cookie", c) for c in cookies or []]
        return Response(303, b"", headers, content_type="text/plain")

    def _session(self, request: Request) -> WebSession | None:
        token = self._cookies(request).get(SESSION_COOKIE, "")
        session = self.sessions.get(token)
        if session is None:
            return None
        if session.expires <= self.cloud.clock.now():
            del self.sessions[token]
            return None
        try:  # the account or user may have gone since
            self.cloud.identity.user(session.account_id, session.user)
        except IdentityError:
            del self.sessions[token]
            return None
        return session

    def _csrf(self, request: Request) -> tuple[str, list[str]]:
        """The browser's CSRF token, and the cookie to set when it has none yet."""
        token = self._cookies(request).get(CSRF_COOKIE, "")
        if len(token) >= 32:
            return token, []
        token = secrets.token_urlsafe(32)
        return token, [self._cookie(request, CSRF_COOKIE, token)]

    async def _form(self, request: Request) -> dict[str, str] | None:
        """The POSTed form when its CSRF token matches the cookie (None otherwise)."""
        if request.header("content-type", "").split(";")[0].strip() != \
                "application/x-www-form-urlencoded":
            return None
        try:
            body = await request.body(limit=MAX_FORM)
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except (ValueError, UnicodeDecodeError):
            return None
        cookie = self._cookies(request).get(CSRF_COOKIE, "")
        if not cookie or not hmac.compare_digest(cookie.encode(), form.get("csrf", "").encode()):
            return None
        return form

    def _forbidden(self, request: Request, text: str) -> Response:
        return self._html(request, 403, "Forbidden", pages.message(text, "error"))

    # -- routing -------------------------------------------------------------------------
    async def handle(self, request: Request) -> Response:
        """Serve one console request."""
        if not self._https(request) and not _loopback(request.client):
            https = self.cloud.https_url
            if https and request.method in ("GET", "HEAD"):
                return self._redirect(request, https + request.path)
            return self._forbidden(request, "The console is served over HTTPS only.")
        path = request.path.rstrip("/") or "/"
        method = request.method
        try:
            if path == "/console/style.css":
                return Response(200, pages.STYLE, self._headers(request),
                                content_type="text/css; charset=utf-8")
            if method in ("GET", "HEAD"):
                if path == "/console":
                    return self.index(request)
                if path == "/console/signup":
                    return self.signup_page(request)
                if path == "/console/login":
                    return self.login_page(request)
                if path == "/console/credentials.zip":
                    return self.download(request)
                if path == "/console/password":
                    return self.password_page(request)
                if path == "/console/mfa":
                    return self.mfa_page(request)
            elif method == "POST":
                form = await self._form(request)
                if form is None:
                    return self._forbidden(request, "The form expired or did not come from "
                                           "this site; please go back, reload and try again.")
                if path == "/console/signup":
                    return await self.apply(request, form)
                if path == "/console/login":
                    return await self.login(request, form)
                if path == "/console/mfa":
                    return self.mfa_login(request, form)
                if path == "/console/logout":
                    return self.logout(request)
                if path == "/console/password":
                    return await self.change_password(request, form)
                parts = path.split("/")
                if len(parts) == 5 and parts[2] == "signups" and parts[4] in ("approve",
                                                                             "reject"):
                    return self.decide(request, parts[3], parts[4])
            else:
                return self._html(request, 405, "Method not allowed", "")
        except ConnectionError:
            return Response(400, b"", content_type="text/plain")
        return self._html(request, 404, "Not found",
                          pages.message("There is no such page.", "error"))

    # -- pages ---------------------------------------------------------------------------
    def index(self, request: Request, notice: str = "") -> Response:
        """Home: the administrator's queue, a user's credentials, or the way in."""
        session = self._session(request)
        csrf, cookies = self._csrf(request)
        if session is None:
            return self._html(request, 200, "Welcome", pages.home(), cookies=cookies)
        if session.account_name == ADMIN_ACCOUNT and session.user == "admin":
            body = pages.admin(csrf, self.signups.list("pending"),
                               [s for s in self.signups.list() if s.status != "pending"],
                               notice)
            return self._html(request, 200, "Applications", body, session=session, csrf=csrf,
                              cookies=cookies)
        body = pages.credentials(session.account_name, session.account_id, session.user, notice)
        return self._html(request, 200, "Your credentials", body, session=session, csrf=csrf,
                          cookies=cookies)

    def signup_page(self, request: Request) -> Response:
        """The application form."""
        csrf, cookies = self._csrf(request)
        return self._html(request, 200, "Sign up", pages.signup_form(csrf), cookies=cookies)

    def login_page(self, request: Request) -> Response:
        """The log-in form."""
        csrf, cookies = self._csrf(request)
        return self._html(request, 200, "Log in", pages.login_form(csrf), cookies=cookies)

    async def apply(self, request: Request, form: dict[str, str]) -> Response:
        """An application."""
        csrf = form["csrf"]
        account, email = form.get("account", ""), form.get("email", "")
        password = form.get("password", "")
        if password != form.get("password2", password):
            error = "The two passwords differ."
        else:
            try:
                signup = await asyncio.to_thread(self.signups.apply, account, email, password)
            except IdentityError as exc:
                error = exc.message
            else:
                self.cloud.store.flush()
                return self._html(request, 200, "Application received", pages.applied(signup))
        return self._html(request, 400, "Sign up",
                          pages.signup_form(csrf, error, account.strip().lower(), email.strip()))

    async def login(self, request: Request, form: dict[str, str]) -> Response:
        """Check the password; start a session."""
        account_ref, user = form.get("account", "").strip(), form.get("user", "").strip()
        password = form.get("password", "")
        identity = self.cloud.identity
        error = "Incorrect account, user name or password."
        try:
            account = identity.account(account_ref)
            account_id, account_name = account.id, account.name
        except IdentityError:
            account_id = account_name = ""
        if account_id and self.lockout.locked(account_id, user):
            error = "Too many failed log-ins: this user is locked out for a while."
        else:
            ok = await asyncio.to_thread(verify_password, self.cloud, account_id, user, password)
            if ok and mfa_required(identity, account_id, user):
                # The lock-out count stays until the code is right too.
                return self._await_code(request, account_id, account_name, user)
            if ok:
                self.lockout.succeeded(account_id, user)
                return self._start_session(request, account_id, account_name, user)
            if account_id:
                self.lockout.failed(account_id, user)
        return self._html(request, 401, "Log in",
                          pages.login_form(form["csrf"], error, account_ref, user))

    def _start_session(self, request: Request, account_id: str, account_name: str,
                       user: str) -> Response:
        """Log the browser in and send it home."""
        token = secrets.token_urlsafe(32)
        self.sessions[token] = WebSession(account_id, account_name, user,
                                          self.cloud.clock.now() + self.session_seconds)
        # A fresh CSRF token with the new session (no fixation of the old one).
        cookies = [self._cookie(request, SESSION_COOKIE, token),
                   self._cookie(request, CSRF_COOKIE, secrets.token_urlsafe(32)),
                   self._cookie(request, MFA_COOKIE, "", max_age=0)]
        return self._redirect(request, "/console/", cookies)

    def _await_code(self, request: Request, account_id: str, account_name: str,
                    user: str) -> Response:
        """The password was right and the user has an MFA device: ask for its code."""
        now = self.cloud.clock.now()
        for stale in [t for t, p in self.pending.items() if p.expires <= now]:
            del self.pending[stale]
        token = secrets.token_urlsafe(32)
        self.pending[token] = PendingLogin(account_id, account_name, user,
                                           now + MFA_STEP_SECONDS)
        return self._redirect(request, "/console/mfa",
                              [self._cookie(request, MFA_COOKIE, token)])

    def _pending(self, request: Request) -> PendingLogin | None:
        token = self._cookies(request).get(MFA_COOKIE, "")
        pending = self.pending.get(token)
        if pending is not None and pending.expires <= self.cloud.clock.now():
            del self.pending[token]
            return None
        return pending

    def mfa_page(self, request: Request) -> Response:
        """The MFA code form of a log-in whose password was right."""
        pending = self._pending(request)
        if pending is None:
            return self._redirect(request, "/console/login")
        csrf, cookies = self._csrf(request)
        return self._html(request, 200, "MFA code", pages.mfa_form(csrf, pending.user),
                          cookies=cookies)

    def mfa_login(self, request: Request, form: dict[str, str]) -> Response:
        """Check the MFA code; start the session."""
        pending = self._pending(request)
        if pending is None:
            return self._redirect(request, "/console/login")
        account_id, user = pending.account_id, pending.user
        if self.lockout.locked(account_id, user):
            self.pending.pop(self._cookies(request).get(MFA_COOKIE, ""), None)
            return self._html(request, 401, "Log in", pages.login_form(
                form["csrf"], "Too many failed log-ins: this user is locked out for a while.",
                pending.account_name, user))
        try:
            verify_sign_in_code(self.cloud.identity, account_id, user,
                                form.get("code", "").strip())
        except IdentityError:
            self.lockout.failed(account_id, user)
            return self._html(request, 401, "MFA code", pages.mfa_form(
                form["csrf"], user, "That code is not right (or was used already): wait for "
                "the next one and try again."))
        self.cloud.store.flush()  # the device's spent code
        self.pending.pop(self._cookies(request).get(MFA_COOKIE, ""), None)
        self.lockout.succeeded(account_id, user)
        return self._start_session(request, account_id, pending.account_name, user)

    def password_page(self, request: Request) -> Response:
        """The change-password form (logged-in users with a local password)."""
        session = self._session(request)
        if session is None:
            return self._redirect(request, "/console/login")
        csrf, cookies = self._csrf(request)
        return self._html(request, 200, "Change password", pages.password_form(csrf),
                          session=session, csrf=csrf, cookies=cookies)

    async def change_password(self, request: Request, form: dict[str, str]) -> Response:
        """Check the current password, then set the new one (the account's policy applies);
        users synced from a directory change it there."""
        session = self._session(request)
        if session is None:
            return self._redirect(request, "/console/login")
        csrf, identity = form["csrf"], self.cloud.identity
        ldap = self.cloud.components.get("ldap")
        error = ""
        if ldap is not None and ldap.directory_dn(session.account_id, session.user):
            error = "Your password is your directory's: change it there."
        elif form.get("new", "") != form.get("new2", ""):
            error = "The two new passwords differ."
        elif not await asyncio.to_thread(verify_password, self.cloud, session.account_id,
                                         session.user, form.get("old", "")):
            error = "The current password is not right."
        else:
            try:
                await asyncio.to_thread(identity.logins.update, session.account_id,
                                        session.user, form.get("new", ""), False)
            except IdentityError as exc:
                error = exc.message
            else:
                self.cloud.store.flush()
                return self.index(request, "Your password was changed.")
        return self._html(request, 400, "Change password", pages.password_form(csrf, error),
                          session=session, csrf=csrf)

    def logout(self, request: Request) -> Response:
        """End the session."""
        self.sessions.pop(self._cookies(request).get(SESSION_COOKIE, ""), None)
        return self._redirect(request, "/console/login",
                              [self._cookie(request, SESSION_COOKIE, "", max_age=0)])

    def decide(self, request: Request, signup_id: str, verdict: str) -> Response:
        """Approve or reject an application (the cloud administrator)."""
        session = self._session(request)
        if session is None or session.account_name != ADMIN_ACCOUNT or session.user != "admin":
            return self._forbidden(request, "Only the cloud administrator decides applications.")
        try:
            signup = (self.signups.approve if verdict == "approve"
                      else self.signups.reject)(signup_id)
        except IdentityError as exc:
            return self.index(request, exc.message)
        finally:
            self.cloud.store.flush()
        return self.index(request, f"Application {signup.signup_id} for "
                          f"{signup.account_name}: {signup.status}.")

    def download(self, request: Request) -> Response:
        """The logged-in user's credentials archive."""
        from server.console.archive import credentials_zip

        session = self._session(request)
        if session is None:
            return self._redirect(request, "/console/login")
        data = credentials_zip(self.cloud, session.account_id, session.user)
        self.cloud.store.flush()
        name = f"{session.account_name}-{session.user}-credentials.zip"
        headers = self._headers(request) + [
            ("Content-Disposition", f'attachment; filename="{name}"')]
        return Response(200, data, headers, content_type="application/zip")


def verify_password(cloud: Cloud, account_id: str, user: str, password: str) -> bool:
    """Whether ``password`` is the user's: the directory decides for users synced from
    LDAP, the login profile for the others (an unknown user costs a hash check too)."""
    ldap = cloud.components.get("ldap")
    verdict = ldap.check_password(account_id, user, password) if ldap is not None else None
    if verdict is not None:
        return bool(verdict)
    profile = cloud.identity.logins.profiles.get((account_id, user))
    ok = check_password(password, profile.password_hash if profile else _DUMMY_HASH)
    return ok and profile is not None


def bootstrap_admin_password(cloud: Cloud) -> None:
    """Give the cloud administrator a console password on first start, written to
    ``DATA_DIR/admin-password`` (0600); an existing login profile is left alone."""
    import os

    from server.util import atomic_write

    identity = cloud.identity
    account = identity.account(ADMIN_ACCOUNT)
    if (account.id, "admin") in identity.logins.profiles:
        return
    password = secrets.token_urlsafe(18)
    identity.logins.create(account.id, "admin", password)
    atomic_write(os.path.join(cloud.data_dir, ADMIN_PASSWORD_FILE), (password + "\n").encode(),
                 mode=0o600)


def setup(cloud: Cloud) -> Any:
    """Serve the console and keep the sign-up queue."""
    signups = Signups(cloud.identity)
    cloud.components["signups"] = signups
    console = Console(cloud, signups)
    cloud.components["console"] = console
    cloud.app.register(console)
    cloud.start_hooks.append(lambda: bootstrap_admin_password(cloud))
    return console
