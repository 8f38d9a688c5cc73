"""HTTPS: a generated CA and server certificate, verified by boto3, awscli and euca2ools."""

from __future__ import annotations

import os
import ssl
import stat
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import requests
from botocore.exceptions import SSLError
from cloudproc import CloudProcess
from consolehelp import run

BIN = Path(sys.executable).parent


def test_certificate_files_are_private(tls_cloud: CloudProcess) -> None:
    """The keys are 0600 in the 0700 data dir; the certificate names 127.0.0.1."""
    for name in ("https-key.pem", "https-ca-key.pem", "admin-password"):
        assert stat.S_IMODE(os.stat(tls_cloud.data_dir / name).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tls_cloud.data_dir).st_mode) == 0o700
    pem = ssl.get_server_certificate(("127.0.0.1", tls_cloud.https_port))
    assert "BEGIN CERTIFICATE" in pem


def test_ini_gives_https_and_the_ca(tls_cloud: CloudProcess) -> None:
    """euca2ools.ini names https:// URLs, verification on, and the CA."""
    text = tls_cloud.ini.read_text()
    assert f"ec2-url = {tls_cloud.https_url}/services/compute" in text
    assert "verify-ssl = true" in text
    assert f"ca-bundle = {tls_cloud.ca}" in text


def test_boto3_verifies_with_the_ca(tls_cloud: CloudProcess) -> None:
    """boto3 with verify=CA works; with the system's CAs it refuses the certificate."""
    creds = tls_cloud.credentials()
    kwargs = {"endpoint_url": tls_cloud.https_url + "/services/Euare",
              "region_name": "us-east-1", "aws_access_key_id": creds["key"],
              "aws_secret_access_key": creds["secret"]}
    iam = boto3.client("iam", verify=str(tls_cloud.ca), **kwargs)
    assert any(u["UserName"] == "admin" for u in iam.list_users()["Users"])
    untrusting = boto3.client("iam", **kwargs)
    with pytest.raises(SSLError):
        untrusting.list_users()


def test_euca_command_over_https(tls_cloud: CloudProcess) -> None:
    """A euca-* command reads the ini's https URL and CA and verifies the server."""
    out = run(["euca-describe-availability-zones"], tls_cloud.ini).stdout
    assert "AVAILABILITYZONE" in out
    # Without the CA, verification fails: one readable line, not a traceback.
    broken = tls_cloud.data_dir / "no-ca.ini"
    broken.write_text(tls_cloud.ini.read_text().replace(f"ca-bundle = {tls_cloud.ca}\n", ""))
    proc = run(["euca-describe-availability-zones"], broken, check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr


def test_awscli_with_ca_bundle(tls_cloud: CloudProcess) -> None:
    """awscli --ca-bundle verifies the cloud."""
    creds = tls_cloud.credentials()
    env = {"PATH": str(BIN) + ":/usr/bin:/bin", "AWS_ACCESS_KEY_ID": creds["key"],
           "AWS_SECRET_ACCESS_KEY": creds["secret"], "AWS_DEFAULT_REGION": "us-east-1",
           "HOME": str(tls_cloud.data_dir)}
    proc = subprocess.run([str(BIN / "aws"), "--endpoint-url",
                           tls_cloud.https_url + "/services/compute", "--ca-bundle",
                           str(tls_cloud.ca), "ec2", "describe-availability-zones"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "ZoneName" in proc.stdout


def test_plain_http_stays_on_loopback(tls_cloud: CloudProcess) -> None:
    """The plain endpoint still answers on loopback."""
    r = requests.get(tls_cloud.url + "/console/", timeout=10)
    assert r.status_code == 200
    assert "Strict-Transport-Security" not in r.headers


def test_configured_certificate(tmp_path: Path) -> None:
    """tls_cert/tls_key/tls_ca from the config are served and named in euca2ools.ini."""
    from cloudproc import cleanup, new_cloud

    from server.tls import generate

    made = generate(str(tmp_path), ["127.0.0.1"])
    config = (f'[cloud]\ntls_cert = "{made.cert}"\ntls_key = "{made.key}"\n'
              f'tls_ca = "{made.ca}"\n')
    cloud = new_cloud(config, https=True)
    try:
        cloud.start()
        assert f"ca-bundle = {made.ca}" in cloud.ini.read_text()
        assert not (cloud.data_dir / "https-key.pem").exists()
        pem = ssl.get_server_certificate(("127.0.0.1", cloud.https_port))
        assert pem.strip() == Path(made.cert).read_text().strip()
        assert "AVAILABILITYZONE" in run(["euca-describe-availability-zones"], cloud.ini).stdout
    finally:
        cleanup(cloud)


def test_bad_https_settings(tmp_path: Path) -> None:
    """A malformed https_listen or a lone tls_cert is exit 2; a busy HTTPS port that was
    asked for is exit 3, before anything is written."""
    import socket

    from cloudproc import free_port

    exe = str(BIN / "eucalyptus-cloud")
    base = [exe, "--data-dir", str(tmp_path / "d"), "--listen", f"127.0.0.1:{free_port()}"]
    proc = subprocess.run(base + ["--https-listen", "nonsense"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "https_listen" in proc.stderr
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[cloud]\ntls_cert = "{cfg}"\n')
    proc = subprocess.run(base + ["--config", str(cfg)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "tls_key" in proc.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = subprocess.run(base + ["--https-listen", f"127.0.0.1:{port}"],
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3 and "in use" in proc.stderr
    assert not (tmp_path / "d" / "euca2ools.ini").exists()


def test_bundling_certificate_is_left_alone(tls_cloud: CloudProcess) -> None:
    """The HTTPS files do not replace Walrus' image-bundling pair (cloud-cert/cloud-pk)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert_path, key_path = tls_cloud.data_dir / "cloud-cert.pem", tls_cloud.data_dir / "cloud-pk.pem"
    if not cert_path.exists():
        pytest.skip("this cloud has no image-bundling certificate")
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    assert cert.public_key().public_bytes(serialization.Encoding.DER, spki) == \
        key.public_key().public_bytes(serialization.Encoding.DER, spki)
