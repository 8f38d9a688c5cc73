"""euca2ools commands pass the user's values through and show AWS's errors in one line."""

from __future__ import annotations

from pathlib import Path


def _image(euca, ini: Path) -> str:  # type: ignore[no-untyped-def]
    out = euca("euca-describe-images", ini=ini).stdout
    return next(line.split("\t")[1] for line in out.splitlines() if line.startswith("IMAGE"))


def _instances(euca, ini: Path) -> list[str]:  # type: ignore[no-untyped-def]
    out = euca("euca-describe-instances", ini=ini).stdout
    return sorted(line.split("\t")[1] for line in out.splitlines()
                  if line.startswith("INSTANCE"))


def test_run_instances_bad_count_and_type(euca, cloud_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """``-n 2-1`` (min above max) and ``-t ''`` launch nothing: InvalidParameterValue."""
    image = _image(euca, cloud_ini)
    before = _instances(euca, cloud_ini)
    proc = euca("euca-run-instances", image, "-n", "2-1", ini=cloud_ini, check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("euca-run-instances: error (InvalidParameterValue): ")
    assert proc.stderr.count("\n") == 1 and proc.stdout == ""
    proc = euca("euca-run-instances", image, "-t", "", ini=cloud_ini, check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ("euca-run-instances: error (InvalidParameterValue): Invalid value "
                           "'' for InstanceType.\n")
    assert _instances(euca, cloud_ini) == before


def test_import_empty_key_and_bad_address(euca, cloud_ini: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An empty public key file and a malformed address answer AWS's codes in one line."""
    empty = tmp_path / "empty.pub"
    empty.write_text("")
    proc = euca("euca-import-keypair", "-f", str(empty), "emptykey", ini=cloud_ini, check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("euca-import-keypair: error (MissingParameter): ")
    proc = euca("euca-describe-addresses", "invalidIp", ini=cloud_ini, check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("euca-describe-addresses: error (InvalidParameterValue): ")
    assert proc.stderr.count("\n") == 1


def test_instance_attribute_errors(euca, cloud_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """VPC-only attributes and unmapped devices answer AWS's codes, one line each."""
    image = _image(euca, cloud_ini)
    out = euca("euca-run-instances", image, ini=cloud_ini).stdout
    iid = next(line.split("\t")[1] for line in out.splitlines() if line.startswith("INSTANCE"))
    proc = euca("euca-modify-instance-attribute", iid, "--source-dest-check", "false",
                ini=cloud_ini, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith(
        "euca-modify-instance-attribute: error (InvalidParameterCombination): ")
    assert proc.stderr.count("\n") == 1
    proc = euca("euca-modify-instance-attribute", iid, "-b", "/dev/sdz=::true", ini=cloud_ini,
                check=False)
    assert proc.returncode == 1
    assert proc.stderr == ("euca-modify-instance-attribute: error (InvalidInstanceAttributeValue)"
                           ": No device is currently mapped at /dev/sdz\n")
    euca("euca-modify-instance-attribute", iid, "--disable-api-termination", "true",
         ini=cloud_ini)
    proc = euca("euca-terminate-instances", iid, ini=cloud_ini, check=False)
    assert proc.returncode == 1 and "(OperationNotPermitted)" in proc.stderr
    euca("euca-modify-instance-attribute", iid, "--disable-api-termination", "false",
         ini=cloud_ini)
    euca("euca-terminate-instances", iid, ini=cloud_ini)
