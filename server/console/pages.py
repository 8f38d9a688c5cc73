"""The console's HTML: small server-rendered pages, every value escaped, no scripts."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from server.protocol.xml import iso8601

if TYPE_CHECKING:
    from server.console.signups import Signup

STYLE = b"""body{font-family:sans-serif;max-width:46em;margin:2em auto;padding:0 1em;color:#222}
header{border-bottom:1px solid #ccc;margin-bottom:1em}
form.inline{display:inline}
label{display:block;margin:.6em 0 .2em}
input[type=text],input[type=email],input[type=password]{width:20em;padding:.3em}
button{margin-top:.8em;padding:.3em 1em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
.error{color:#a00;font-weight:bold}.notice{color:#060;font-weight:bold}
"""


def page(title: str, body: str, *, who: str = "", csrf: str = "") -> bytes:
    """A whole page: header (with a log-out button when logged in), then ``body``."""
    nav = '<a href="/console/">Home</a>'
    if who:
        nav += (f' · {escape(who)} <form class="inline" method="post" action="/console/logout">'
                f'{csrf_field(csrf)}<button type="submit" id="logout">Log out</button></form>')
    else:
        nav += (' · <a href="/console/signup" id="signup-link">Sign up</a>'
                ' · <a href="/console/login" id="login-link">Log in</a>')
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(title)} - Eucalyptus</title>"
            f'<link rel="stylesheet" href="/console/style.css"></head><body>'
            f"<header><h1>Eucalyptus</h1><nav>{nav}</nav></header>"
            f"<main><h2>{escape(title)}</h2>{body}</main></body></html>\n").encode()


def csrf_field(token: str) -> str:
    """The hidden field every form carries."""
    return f'<input type="hidden" name="csrf" value="{escape(token)}">'


def message(text: str, kind: str = "notice") -> str:
    """A notice or error paragraph."""
    return f'<p class="{kind}" id="{kind}">{escape(text)}</p>' if text else ""


def home() -> str:
    """What an anonymous visitor sees."""
    return ("<p>Apply for an account on this cloud, or log in to download your "
            "credentials.</p><ul>"
            '<li><a href="/console/signup">Sign up for an account</a></li>'
            '<li><a href="/console/login">Log in</a></li></ul>')


def signup_form(csrf: str, error: str = "", account: str = "", email: str = "") -> str:
    """The application form."""
    return (f'{message(error, "error")}<form method="post" action="/console/signup">'
            f"{csrf_field(csrf)}"
            '<label for="account">Account name</label>'
            f'<input type="text" id="account" name="account" value="{escape(account)}" '
            'required maxlength="63" pattern="[a-z0-9][a-z0-9\\-]*" autocomplete="organization">'
            '<label for="email">E-mail</label>'
            f'<input type="email" id="email" name="email" value="{escape(email)}" required '
            'autocomplete="email">'
            '<label for="password">Password</label>'
            '<input type="password" id="password" name="password" required minlength="8" '
            'autocomplete="new-password">'
            '<label for="password2">Password again</label>'
            '<input type="password" id="password2" name="password2" required minlength="8" '
            'autocomplete="new-password">'
            '<button type="submit" id="apply">Apply</button></form>'
            "<p>The cloud administrator reviews each application; your credentials become "
            "available here once it is approved.</p>")


def applied(signup: Signup) -> str:
    """The answer to an application."""
    return (message(f"Application {signup.signup_id} for account {signup.account_name} "
                    "received: it waits for the administrator's approval.")
            + '<p>Once approved, <a href="/console/login">log in</a> with the account name, '
            "user name <code>admin</code> and your password.</p>")


def login_form(csrf: str, error: str = "", account: str = "", user: str = "admin") -> str:
    """The log-in form."""
    return (f'{message(error, "error")}<form method="post" action="/console/login">'
            f"{csrf_field(csrf)}"
            '<label for="account">Account</label>'
            f'<input type="text" id="account" name="account" value="{escape(account)}" required '
            'autocomplete="organization">'
            '<label for="user">User name</label>'
            f'<input type="text" id="user" name="user" value="{escape(user)}" required '
            'autocomplete="username">'
            '<label for="password">Password</label>'
            '<input type="password" id="password" name="password" required '
            'autocomplete="current-password">'
            '<button type="submit" id="login">Log in</button></form>')


def mfa_form(csrf: str, user: str, error: str = "") -> str:
    """The second step of a log-in: a code of the user's MFA device."""
    return (f'{message(error, "error")}<p>User <b>{escape(user)}</b> has an MFA device: '
            "enter the code your authenticator app shows now.</p>"
            f'<form method="post" action="/console/mfa">{csrf_field(csrf)}'
            '<label for="code">MFA code</label>'
            '<input type="text" id="code" name="code" required inputmode="numeric" '
            'pattern="[0-9]{6}" minlength="6" maxlength="6" autocomplete="one-time-code">'
            '<button type="submit" id="verify">Verify</button></form>'
            '<p><a href="/console/login">Start over</a></p>')


def credentials(account_name: str, account_id: str, user: str, notice: str = "") -> str:
    """The logged-in user's page."""
    return (f"{message(notice)}<p>Account <b>{escape(account_name)}</b> ({escape(account_id)}),"
            f" user <b>{escape(user)}</b>.</p>"
            '<p><a href="/console/credentials.zip" id="download" download>Download '
            "credentials</a> (a zip of euca2ools.ini, eucarc, your certificate and key, and "
            "the cloud's certificates). Keep it private: it holds your secret key.</p>"
            '<p><a href="/console/password" id="password-link">Change your password</a></p>')


def admin(csrf: str, pending: list[Signup], decided: list[Signup], notice: str = "") -> str:
    """The cloud administrator's queue of applications."""
    rows = []
    for s in pending:
        sid = escape(s.signup_id)
        rows.append(
            f'<tr id="row-{sid}"><td>{sid}</td><td>{escape(s.account_name)}</td>'
            f"<td>{escape(s.email)}</td><td>{escape(iso8601(s.created))}</td><td>"
            f'<form class="inline" method="post" action="/console/signups/{sid}/approve">'
            f'{csrf_field(csrf)}<button type="submit" id="approve-{sid}">Approve</button></form>'
            f' <form class="inline" method="post" action="/console/signups/{sid}/reject">'
            f'{csrf_field(csrf)}<button type="submit" id="reject-{sid}">Reject</button></form>'
            "</td></tr>")
    table = ("<table id=\"pending\"><tr><th>Application</th><th>Account</th><th>E-mail</th>"
             "<th>Applied</th><th></th></tr>" + "".join(rows) + "</table>"
             if rows else '<p id="pending">No applications are waiting.</p>')
    done = "".join(f"<li>{escape(s.account_name)} ({escape(s.email)}): {escape(s.status)}</li>"
                   for s in decided[-20:])
    return (f"{message(notice)}<h3>Pending applications</h3>{table}"
            + (f"<h3>Decided</h3><ul>{done}</ul>" if done else "")
            + '<p><a href="/console/credentials.zip" id="download" download>Download your '
            'credentials</a> · <a href="/console/password" id="password-link">Change your '
            "password</a></p>")


def password_form(csrf: str, error: str = "") -> str:
    """The change-password form."""
    return (f'{message(error, "error")}<form method="post" action="/console/password">'
            f"{csrf_field(csrf)}"
            '<label for="old">Current password</label>'
            '<input type="password" id="old" name="old" required '
            'autocomplete="current-password">'
            '<label for="new">New password</label>'
            '<input type="password" id="new" name="new" required minlength="6" '
            'autocomplete="new-password">'
            '<label for="new2">New password again</label>'
            '<input type="password" id="new2" name="new2" required minlength="6" '
            'autocomplete="new-password">'
            '<button type="submit" id="change">Change password</button></form>')
