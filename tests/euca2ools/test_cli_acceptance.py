"""The command-line papercuts of issue 12 (item 8), as a second tester would try them.

Non-numbers for numeric options in every suite, missing and unreadable files for the
commands that read one, EUCA_CONFIG_PATH naming a directory or a file that does not parse,
an unknown --region, the final newline of printed output, and a man page for every
installed console script.  The installed commands run as subprocesses against a real cloud.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def error_lines(stderr: str) -> list[str]:
    """The lines of stderr that report an error (usage errors also print a usage line)."""
    return [line for line in stderr.splitlines() if ": error" in line]


@pytest.mark.parametrize("args,value", [
    (["euca-create-volume", "-z", "zone-1", "-s", "ten"], "ten"),
    (["euca-create-volume", "-z", "zone-1", "-s", "2.5"], "2.5"),
    (["euca-run-instances", "emi-1", "-n", "abc"], "abc"),
    (["euca-run-instances", "emi-1", "-n", "1-two"], "1-two"),
    (["euca-run-instances", "emi-1", "-n", "1.5"], "1.5"),
    (["euca-authorize", "default", "-P", "tcp", "-p", "http-ish"], "http-ish"),
    (["euscale-create-auto-scaling-group", "g", "-l", "lc", "-m", "one", "-M", "2",
      "-z", "zone-1"], "one"),
    (["euscale-update-auto-scaling-group", "g", "--desired-capacity", "1.5"], "1.5"),
    (["euscale-set-desired-capacity", "g", "-c", "lots"], "lots"),
    (["euscale-put-scaling-policy", "p", "-g", "g", "-t", "ChangeInCapacity", "-a", "+x"], "+x"),
    (["euwatch-put-metric-alarm", "a", "--metric-name", "m", "--namespace", "n",
      "--statistic", "Average", "--period", "a-minute", "--threshold", "1",
      "--comparison-operator", "GreaterThanThreshold", "--evaluation-periods", "1"],
     "a-minute"),
    (["euwatch-put-metric-alarm", "a", "--metric-name", "m", "--namespace", "n",
      "--statistic", "Average", "--period", "60", "--threshold", "high",
      "--comparison-operator", "GreaterThanThreshold", "--evaluation-periods", "1"], "high"),
    (["euwatch-put-data", "-m", "m", "-n", "ns", "-v", "NaNish"], "NaNish"),
    (["euare-assumerole", "r", "-d", "1h"], "1h"),
], ids=lambda a: a[0] if isinstance(a, list) else str(a))
def test_non_numbers_for_numeric_options(euca, cloud_ini: Path, args: list[str],  # type: ignore[no-untyped-def]
                                         value: str) -> None:
    """Exit 2 and one error line that names the option and the value, never Python's
    ``invalid literal for int()``."""
    proc = euca(*args, ini=cloud_ini, check=False)
    assert proc.returncode == 2, proc.stderr
    (line,) = error_lines(proc.stderr)
    assert line.startswith(f"{args[0]}: error: ") and f"'{value}'" in line
    assert "invalid literal" not in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize("args", [
    ["euca-run-instances", "emi-1", "--user-data-file", "{missing}"],
    ["euca-get-password", "i-00000000000000000", "-k", "{missing}"],
    ["euca-get-password", "i-00000000000000000", "--priv-launch-key", "{dir}"],
    ["euca-import-keypair", "k", "-f", "{dir}"],
    ["euare-rolecreate", "r", "-f", "{missing}"],
    ["euscale-create-launch-config", "lc", "-i", "emi-1", "-t", "m1.small",
     "--user-data-file", "{missing}"],
    ["euca-import-volume", "{missing}", "-f", "raw", "-z", "zone-1", "-b", "bucket"],
    ["euca-unbundle", "-m", "{missing}", "-k", "{missing}"],
    ["euca-upload-bundle", "-b", "bucket", "-m", "{missing}"],
    ["euca-fingerprint-key", "{dir}"],
], ids=lambda a: a[0] + "-" + a[-2].lstrip("-") + ("-dir" if a[-1] == "{dir}" else ""))
def test_unreadable_local_files_exit_2(euca, cloud_ini: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                       args: list[str]) -> None:
    """A file that does not exist, or a directory where a file is wanted: exit status 2
    and one line naming it, before anything is asked of the cloud (the instance named
    does not exist: a request would have answered InvalidInstanceID.NotFound)."""
    missing = tmp_path / "gone" / "nothing.pem"
    argv = [a.format(missing=missing, dir=tmp_path) for a in args]
    proc = euca(*argv, ini=cloud_ini, check=False)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{argv[0]}: error: "), proc.stderr
    assert str(missing) in lines[0] or str(tmp_path) in lines[0]
    assert "NotFound" not in proc.stderr


@pytest.mark.parametrize("make,expect", [
    (lambda d: d, "is a directory"),
    (lambda d: _write(d / "junk.ini", "this is not an ini file\n"), "section header"),
    (lambda d: _write(d / "half.ini", "[region x]\nec2-url\n"), "cannot parse line 2"),
    (lambda d: _write(d / "bin.ini", b"\xff\xfe\x00["), "not UTF-8"),
], ids=["directory", "no-section", "bad-line", "binary"])
def test_config_path_that_cannot_be_used(euca, tmp_path: Path, make, expect: str) -> None:  # type: ignore[no-untyped-def]
    """EUCA_CONFIG_PATH naming a directory or a file that is not an ini file: exit 1 and
    one line saying so, instead of a silent default or configparser's several lines."""
    path = make(tmp_path)
    proc = euca("euca-describe-regions", env={"EUCA_CONFIG_PATH": str(path)}, check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("euca-describe-regions: error: ") and expect in proc.stderr
    assert proc.stdout == ""


def _write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)
    return path


def test_config_path_glob_skips_directories(euca, cloud_ini: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A glob in EUCA_CONFIG_PATH that also matches a directory reads only the files."""
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "sub.ini").mkdir()
    (tmp_path / "conf.d" / "cloud.ini").write_text(cloud_ini.read_text())
    proc = euca("euca-describe-availability-zones",
                env={"EUCA_CONFIG_PATH": str(tmp_path / "conf.d" / "*.ini")})
    assert proc.stdout.startswith("AVAILABILITYZONE\t") and proc.stdout.endswith("\n")


def test_unknown_region_is_one_line(euca, cloud_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """``--region`` naming no configured region: exit 1, one line listing the regions the
    configuration does have (the cloud's among them)."""
    proc = euca("euca-describe-instances", "--region", "atlantis", ini=cloud_ini, check=False)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("euca-describe-instances: error: No ec2 endpoint")
    assert proc.stderr.rstrip("\n").endswith(", localhost")
    good = euca("euca-describe-regions", "--region", "localhost", ini=cloud_ini)
    assert good.stdout.startswith("REGION\tlocalhost\t")


def test_unknown_user_is_named(euca, cloud_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """``--region USER@REGION`` naming a user the configuration does not have: exit 1 and
    one line naming the user and those it does have."""
    proc = euca("euca-describe-regions", "--region", "nobody@localhost", ini=cloud_ini,
                check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "user 'nobody'" in proc.stderr and ":admin" in proc.stderr


@pytest.mark.parametrize("args", [
    ["euca-describe-regions"],
    ["euca-describe-availability-zones", "verbose"],
    ["euca-describe-images", "-a"],
    ["euca-create-keypair", "newline-check"],
    ["euca-describe-keypairs", "newline-check"],
    ["euca-describe-groups"],
    ["euca-describe-instance-types"],
    ["euare-getcallerid"],
    ["euare-userlistbypath"],
    ["euctl", "cloud"],
    ["euserv-describe-services"],
])
def test_printed_output_ends_with_a_newline(euca, cloud_ini: Path, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Every command that prints text ends it with a newline (a shell prompt then starts
    on its own line)."""
    proc = euca(*args, ini=cloud_ini)
    assert proc.stdout and proc.stdout.endswith("\n"), repr(proc.stdout[-80:])
    assert not proc.stdout.endswith("\n\n")


def test_version_line_ends_with_a_newline(euca) -> None:  # type: ignore[no-untyped-def]
    """euca-version prints its one line (on stderr, as euca2ools does) with a newline."""
    proc = euca("euca-version")
    assert proc.stderr.startswith("euca2ools ") and proc.stderr.count("\n") == 1
    assert proc.stderr.endswith("\n")


def test_every_console_script_has_a_man_page() -> None:
    """pyproject.toml's console scripts (the cloud, the simulator, the dashboard and every
    euca2ools command) each have man/NAME.1 with NAME and SYNOPSIS sections."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    missing = [name for name in scripts if not (ROOT / "man" / f"{name}.1").is_file()]
    assert missing == []
    for name in ("eucalyptus-cloud", "euca-sim", "euca-tui"):
        if name in scripts:
            page = (ROOT / "man" / f"{name}.1").read_text()
            assert ".SH NAME" in page or '.SH "NAME"' in page
            assert "SYNOPSIS" in page


def test_euform_against_the_unserved_cloudformation(euca, cloud_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """The ini names no CloudFormation endpoint (the cloud does not serve it): euform
    says so in one line; pointed at its Eucalyptus path with -U it gets NotImplemented."""
    import configparser

    proc = euca("euform-describe-stacks", ini=cloud_ini, check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "No cloudformation endpoint" in proc.stderr
    cp = configparser.ConfigParser()
    cp.read(cloud_ini)
    region = next(s for s in cp.sections() if s.startswith("region "))
    base = cp[region]["ec2-url"].removesuffix("/services/compute")
    proc = euca("euform-describe-stacks", "-U", base + "/services/CloudFormation",
                ini=cloud_ini, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("euform-describe-stacks: error (NotImplemented): ")
    assert proc.stderr.count("\n") == 1


def _numeric_cases() -> list[tuple[list[str], str]]:
    """Every declared option typed int or float, with the command's other required
    arguments filled in and a word for its value."""
    from euca2ools.commands import all_commands

    cases = []
    for command in all_commands():
        for arg in command.iter_args():
            if arg.type not in (int, float) or arg.positional:
                continue
            argv = [command.name]
            for other in command.iter_args():
                if other is arg or not other.required:
                    continue
                if other.positional:
                    argv.append("x")
                elif not other.flag:
                    argv += [other.flags[0], other.choices[0] if other.choices else "1"]
            cases.append((argv + [arg.flags[0], "many"], f"{command.name} {arg.flags[0]}"))
    return cases


NUMERIC = _numeric_cases()


@pytest.mark.parametrize("argv", [c[0] for c in NUMERIC], ids=[c[1] for c in NUMERIC])
def test_every_numeric_option_refuses_a_word(euca, argv: list[str]) -> None:  # type: ignore[no-untyped-def]
    """All of them, whatever the suite: exit 2 and one error line quoting the value."""
    proc = euca(*argv, check=False)
    assert proc.returncode == 2, proc.stderr
    (line,) = error_lines(proc.stderr)
    assert "'many'" in line and "invalid literal" not in proc.stderr
