"""Errors, exit statuses, retries and the configuration messages users see."""

from __future__ import annotations

from pathlib import Path

import pytest

EC2_ERROR = ("<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>"
             "<Message>The instance ID 'i-x' does not exist</Message></Error></Errors>"
             "<RequestID>r</RequestID></Response>")
IAM_ERROR = ("<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code>"
             "<Message>user nobody not found</Message></Error><RequestId>r</RequestId>"
             "</ErrorResponse>")


@pytest.fixture(autouse=True)
def _empty_ini(tmp_path: Path) -> None:
    """``none.ini``: an empty configuration (a missing one is an error of its own)."""
    (tmp_path / "none.ini").write_text("")


@pytest.mark.parametrize("fast", [True, False], ids=["fastpath", "click"])
def test_service_error_line_and_status(euca, stub, fast: bool) -> None:  # type: ignore[no-untyped-def]
    """``PROG: error (Code): Message`` on stderr and exit 1, for EC2 and IAM error shapes."""
    cloud, ini = stub
    env = {} if fast else {"EUCA2OOLS_NO_FASTPATH": "1"}
    cloud.answers["DescribeInstances"] = (400, EC2_ERROR)
    proc = euca("euca-describe-instances", "i-x", ini=ini, env=env, check=False)
    assert proc.returncode == 1
    assert proc.stderr == ("euca-describe-instances: error (InvalidInstanceID.NotFound): "
                           "The instance ID 'i-x' does not exist\n")
    assert proc.stdout == ""
    cloud.answers["DeleteUser"] = (404, IAM_ERROR)
    proc = euca("euare-userdel", "nobody", ini=ini, env=env, check=False)
    assert proc.returncode == 1
    assert proc.stderr == "euare-userdel: error (NoSuchEntity): user nobody not found\n"


def test_non_xml_error_body(euca, stub) -> None:  # type: ignore[no-untyped-def]
    """A body that is not XML is the message; the code is the HTTP status."""
    cloud, ini = stub
    cloud.answers["DescribeRegions"] = (403, "go away")
    proc = euca("euca-describe-regions", ini=ini, check=False)
    assert (proc.returncode, proc.stderr) == (1, "euca-describe-regions: error (403): go away\n")


@pytest.mark.parametrize("fast", [True, False], ids=["fastpath", "click"])
def test_html_error_page(euca, stub, fast: bool) -> None:  # type: ignore[no-untyped-def]
    """An HTML error page (a web framework's 500) is reported by its title, on one line."""
    cloud, ini = stub
    env = {} if fast else {"EUCA2OOLS_NO_FASTPATH": "1"}
    page = ("<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
            "<h1>Internal Server Error</h1>\n<p>The server encountered an error.</p>\n")
    cloud.queue += [(500, page)] * 3
    proc = euca("euca-describe-regions", ini=ini, env=env, check=False)
    assert (proc.returncode, proc.stderr) == (
        1, "euca-describe-regions: error (500): 500 Internal Server Error\n")


@pytest.mark.parametrize("fast", [True, False], ids=["fastpath", "click"])
def test_retries_500_and_503(euca, stub, fast: bool) -> None:  # type: ignore[no-untyped-def]
    """500/503 are retried (max-retries = 2) and then succeed."""
    cloud, ini = stub
    cloud.queue += [(503, "busy"), (500, "oops")]
    env = {} if fast else {"EUCA2OOLS_NO_FASTPATH": "1"}
    euca("euca-describe-regions", ini=ini, env=env)
    assert len(cloud.requests) == 3


def test_retries_exhausted(euca, stub) -> None:  # type: ignore[no-untyped-def]
    """After max-retries the 503 is reported."""
    cloud, ini = stub
    cloud.queue += [(503, "busy")] * 3
    proc = euca("euca-describe-regions", ini=ini, check=False)
    assert proc.returncode == 1 and "error (503)" in proc.stderr
    assert len(cloud.requests) == 3


def test_usage_errors_exit_2(euca, stub) -> None:  # type: ignore[no-untyped-def]
    """Missing arguments, unknown options, conflicting options and bad filters exit 2."""
    _cloud, ini = stub
    for args in (["euca-run-instances"], ["euca-describe-instances", "--bogus"],
                 ["euca-describe-instances", "--filter", "nonsense=1"],
                 ["euca-describe-instances", "--filter", "noequals"],
                 ["euca-associate-address", "1.2.3.4"],
                 ["euca-associate-address", "1.2.3.4", "-i", "i-1", "-n", "eni-1"],
                 ["euca-run-instances", "emi-1", "-n", "0"],
                 ["euca-describe-instance-attribute", "i-1"]):
        proc = euca(*args, ini=ini, check=False)
        assert proc.returncode == 2, (args, proc.stderr)
        assert f"{args[0]}: error" in proc.stderr or "Usage:" in proc.stderr, proc.stderr


def test_missing_endpoint_says_what_to_set(euca, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """No config at all: the message names ec2-url and EC2_URL."""
    proc = euca("euca-describe-instances", ini=tmp_path / "none.ini", check=False)
    assert proc.returncode == 1
    assert "No ec2 endpoint" in proc.stderr and "ec2-url" in proc.stderr
    assert "EC2_URL" in proc.stderr


def test_missing_credentials_says_what_to_set(euca, stub, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An endpoint but no key: the message names -I and key-id."""
    cloud, _ini = stub
    proc = euca("euca-describe-instances", ini=tmp_path / "none.ini",
                env={"EC2_URL": cloud.url}, check=False)
    assert proc.returncode == 1
    assert "missing access key ID" in proc.stderr and "-I" in proc.stderr
    proc = euca("euca-describe-instances", "-I", "AKID", ini=tmp_path / "none.ini",
                env={"EC2_URL": cloud.url}, check=False)
    assert proc.returncode == 2 and "missing secret key" in proc.stderr


def test_connection_refused(euca, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An unreachable endpoint is one line, exit 1, no traceback."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"EC2_URL": f"http://127.0.0.1:{port}/", "AWS_ACCESS_KEY_ID": "a",
           "AWS_SECRET_ACCESS_KEY": "b"}
    for extra in ({}, {"EUCA2OOLS_NO_FASTPATH": "1"}):
        proc = euca("euca-describe-regions", ini=tmp_path / "none.ini", env={**env, **extra},
                    check=False)
        assert proc.returncode == 1
        assert proc.stderr.startswith("euca-describe-regions: error: connection error")


def test_debug_shows_traceback(euca, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """--debug re-raises: the traceback is shown."""
    proc = __import__("subprocess").run(
        [str(Path(__import__("sys").executable).parent / "euca-describe-regions"), "--debug"],
        env={**euca.env, "EUCA_CONFIG_PATH": str(tmp_path / "none.ini")},
        capture_output=True, text=True)
    assert proc.returncode == 1 and "Traceback" in proc.stderr


def test_show_empty_fields(euca, stub) -> None:  # type: ignore[no-untyped-def]
    """--show-empty-fields prints (nil) for empty columns; otherwise they stay empty."""
    cloud, ini = stub
    cloud.answers["DescribeKeyPairs"] = (200, (
        "<DescribeKeyPairsResponse><keySet><item><keyName>k</keyName><keyFingerprint/>"
        "</item></keySet></DescribeKeyPairsResponse>"))
    assert euca("euca-describe-keypairs", ini=ini).stdout == "KEYPAIR\tk\t\n"
    out = euca("euca-describe-keypairs", "--show-empty-fields", ini=ini).stdout
    assert out == "KEYPAIR\tk\t(nil)\n"


def test_region_user_and_credential_precedence(euca, stub, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """--region USER@REGION, -I/-S, env and [user] sections pick the signing key and region."""
    cloud, ini = stub
    text = ini.read_text() + (
        "\n[region other]\nec2-url = otherregion::" + cloud.url + "\n"
        "\n[user bob]\nkey-id = AKIDBOB\nsecret-key = bobsecret\n")
    ini.write_text(text)

    def scope() -> list[str]:
        auth = cloud.requests[-1]["headers"]["authorization"]
        return auth.split("Credential=")[1].split(",")[0].split("/")

    euca("euca-describe-regions", ini=ini)
    assert scope()[0] == "AKIDSTUB" and scope()[2] == "stub"
    euca("euca-describe-regions", "--region", "bob@other", ini=ini)
    assert scope()[0] == "AKIDBOB" and scope()[2] == "otherregion"
    euca("euca-describe-regions", "--region", "bob@", ini=ini)
    assert scope()[0] == "AKIDBOB" and scope()[2] == "stub"
    euca("euca-describe-regions", ini=ini, env={"EUCA_DEFAULT_REGION": "bob@other"})
    assert scope()[0] == "AKIDBOB" and scope()[2] == "otherregion"
    euca("euca-describe-regions", "-I", "AKIDCLI", "-S", "x", ini=ini,
         env={"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "y"})
    assert scope()[0] == "AKIDCLI"
    euca("euca-describe-regions", ini=ini,
         env={"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "y",
              "AWS_SECURITY_TOKEN": "tok"})
    assert scope()[0] == "AKIDENV"
    assert cloud.requests[-1]["headers"]["x-amz-security-token"] == "tok"
    euca("euca-describe-regions", "-U", f"named::{cloud.url}", ini=ini)
    assert scope()[2] == "named"


def test_redirect_is_followed_and_resigned(euca, stub) -> None:  # type: ignore[no-untyped-def]
    """A 307 to another path is followed (by the complete path), signed again."""
    cloud, ini = stub
    # The fast path hands a redirect over to the complete path, which asks again.
    cloud.queue += [(307, "", {"Location": "/services/moved"})] * 2
    out = euca("euca-describe-regions", ini=ini).stdout
    assert out == ""
    assert [r["path"] for r in cloud.requests] == ["/services/compute", "/services/compute",
                                                   "/services/moved"]
    assert all("authorization" in r["headers"] for r in cloud.requests)


def test_timeout_is_retried_then_reported(euca, stub, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A server that never answers: retried, then "request timed out", exit 1."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    ini = tmp_path / "slow.ini"
    ini.write_text("[global]\ndefault-region = slow\ntimeout = 0.3\nmax-retries = 1\n\n"
                   f"[region slow]\nec2-url = http://127.0.0.1:{port}/\nuser = u\n\n"
                   "[user u]\nkey-id = AKID\nsecret-key = s\n")
    try:
        for extra in ({}, {"EUCA2OOLS_NO_FASTPATH": "1"}):
            proc = euca("euca-describe-regions", ini=ini, env=extra, check=False)
            assert (proc.returncode, proc.stderr) == (
                1, "euca-describe-regions: error: request timed out\n")
    finally:
        listener.close()


def test_console_output_escapes_control_characters(euca, stub) -> None:  # type: ignore[no-untyped-def]
    """Control characters show as ^X unless -r; TAB/LF/CR stay."""
    import base64

    cloud, ini = stub
    text = base64.b64encode(b"boot\x01ok\tfine\x7f\r\nend\n").decode()
    cloud.answers["GetConsoleOutput"] = (200, (
        f"<GetConsoleOutputResponse><instanceId>i-1</instanceId><timestamp>2026-01-01T00:00:00Z"
        f"</timestamp><output>{text}</output></GetConsoleOutputResponse>"))
    out = euca("euca-get-console-output", "i-1", ini=ini).stdout
    # (text mode turns the CR LF into LF)
    assert out == "i-1\n2026-01-01T00:00:00Z\nboot^Aok\tfine^?\nend\n"
    raw = euca("euca-get-console-output", "-r", "i-1", ini=ini).stdout
    assert raw == "i-1\n2026-01-01T00:00:00Z\nboot\x01ok\tfine\x7f\nend\n"
