"""Command-line papercuts: bad numbers, missing files, a missing config, console output,
and the packaging around the commands (make docs, pyproject metadata)."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("fast", ["0", "1"], ids=["fastpath", "click"])
def test_bad_integer_is_one_usage_line(euca, stub, fast: str) -> None:  # type: ignore[no-untyped-def]
    """``-s 1.5``: exit 2 with argparse's message naming the option, not Python's."""
    cloud, ini = stub
    proc = euca("euca-create-volume", "-s", "1.5", "-z", "zone-1", ini=ini,
                env={"EUCA2OOLS_NO_FASTPATH": fast}, check=False)
    assert proc.returncode == 2
    assert "invalid literal" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert errors == ["euca-create-volume: error: argument -s/--size: invalid int value: '1.5'"]
    assert cloud.requests == []


@pytest.mark.parametrize("args", [
    ["euca-import-keypair", "k", "-f", "{missing}"],
    ["euca-run-instances", "emi-1", "-f", "{missing}"],
    ["euca-fingerprint-key", "{missing}"],
    ["euca-bundle-image", "-i", "{missing}", "-r", "x86_64"],
    ["euca-bundle-image", "-i", "{image}", "-r", "x86_64", "--ec2cert", "{missing}"],
], ids=lambda a: a[0] + ("-cert" if "--ec2cert" in a else ""))
def test_missing_local_file_exits_2(euca, stub, tmp_path: Path, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    """One rule in every command: a local file the user named that does not exist is a
    usage error, exit status 2, one line naming the file."""
    cloud, ini = stub
    image = tmp_path / "disk.img"
    image.write_bytes(b"\0" * 1024)
    missing = tmp_path / "nowhere" / "absent.file"
    argv = [a.format(missing=missing, image=image) for a in args]
    proc = euca(*argv, ini=ini, check=False)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{argv[0]}: error: "), proc.stderr
    assert str(missing) in lines[0] or "absent.file" in lines[0]
    assert cloud.requests == []


def test_missing_config_path_is_an_error(euca, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """EUCA_CONFIG_PATH naming a file that does not exist is one line, exit 1; a glob that
    matches nothing is still allowed (it is how the default paths work)."""
    missing = tmp_path / "typo.ini"
    for fast in ("0", "1"):
        proc = euca("euca-describe-instances", ini=missing, env={"EUCA2OOLS_NO_FASTPATH": fast},
                    check=False)
        assert proc.returncode == 1
        assert proc.stderr == f"euca-describe-instances: error: EUCA_CONFIG_PATH: no such file: {missing}\n"
    proc = euca("euca-describe-instances", ini=f"{tmp_path}/*.ini", check=False)
    assert "no such file" not in proc.stderr and "No ec2 endpoint" in proc.stderr


@pytest.mark.parametrize("output,shown", [(b"boot\nlogin: ", "boot\nlogin: \n"), (b"", ""),
                                          (b"done\n\n", "done\n")])
def test_console_output_ends_with_newline(euca, stub, output: bytes, shown: str) -> None:  # type: ignore[no-untyped-def]
    """The console text always ends with a newline, however the console ended."""
    import base64

    cloud, ini = stub
    text = base64.b64encode(output).decode()
    cloud.answers["GetConsoleOutput"] = (200, (
        f"<GetConsoleOutputResponse><instanceId>i-1</instanceId><timestamp>2026-01-01T00:00:00Z"
        f"</timestamp><output>{text}</output></GetConsoleOutputResponse>"))
    for flag in ([], ["-r"]):
        out = euca("euca-get-console-output", *flag, "i-1", ini=ini).stdout
        assert out == "i-1\n2026-01-01T00:00:00Z\n" + shown


def test_make_docs_runs_the_generator() -> None:
    """``make docs`` calls the module that exists (python -m euca2ools.generate)."""
    proc = subprocess.run(["make", "-n", "-W", ".venv/bin/.installed", "docs"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "-m euca2ools.generate" in proc.stdout and "docgen" not in proc.stdout


def test_pyproject_metadata_is_current() -> None:
    """No deprecated packaging metadata (setuptools warns for each, on every install):
    an SPDX license string, no license classifiers, a backend that understands both."""
    with open(ROOT / "pyproject.toml", "rb") as handle:
        doc = tomllib.load(handle)
    project = doc["project"]
    assert isinstance(project["license"], str) and project["license"] == "BSD-2-Clause"
    assert not [c for c in project.get("classifiers", []) if c.startswith("License ::")]
    assert "setuptools>=77" in doc["build-system"]["requires"]
    # a .pth editable install (packages at the top), not the finder setuptools warns about
    assert doc["tool"]["setuptools"]["package-dir"] == {"": "."}
