"""Bundle, upload and register the test guest's kernel, ramdisk and machine image.

``euca-bundle-image``/``euca-upload-bundle`` are used when the euca2ools suite has
them; until then the bundle is written here in the same format (tar -> gzip ->
AES-128-CBC, the hex key and IV RSA-encrypted to the cloud's certificate, parts listed
with SHA-1 digests in an XML manifest) and uploaded with boto3.  ``euca-register``'s
request is RegisterImage with the manifest's location either way.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
PART_SIZE = 10 * 1024 * 1024  # euca2ools' part size


def make_bundle(image: Path, image_type: str, cert_pem: bytes,
                kernel_id: str = "", ramdisk_id: str = "") -> tuple[bytes, dict[str, bytes]]:
    """``(manifest XML, {part file name: bytes})`` for one image file."""
    from cryptography import x509
    from cryptography.hazmat.primitives import padding as sym_padding
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    name = image.name
    data = image.read_bytes()
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    tarred = tar_buf.getvalue()
    key, iv = os.urandom(16), os.urandom(16)
    padder = sym_padding.PKCS7(128).padder()
    plain = padder.update(gzip.compress(tarred, 1)) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    blob = encryptor.update(plain) + encryptor.finalize()
    public: Any = x509.load_pem_x509_certificate(cert_pem).public_key()

    def wrapped(secret: bytes) -> str:  # euca2ools encrypts the hex text (openssl -K)
        return str(public.encrypt(secret.hex().encode(), padding.PKCS1v15()).hex())

    parts = {f"{name}.part.{n:02d}": blob[off:off + PART_SIZE]
             for n, off in enumerate(range(0, len(blob), PART_SIZE))}
    parts_xml = "".join(
        f'<part index="{n}"><filename>{fname}</filename>'
        f'<digest algorithm="SHA1">{hashlib.sha1(chunk).hexdigest()}</digest></part>'
        for n, (fname, chunk) in enumerate(parts.items()))
    config = "<architecture>x86_64</architecture>"
    if kernel_id:
        config += f"<kernel_id>{kernel_id}</kernel_id>"
    if ramdisk_id:
        config += f"<ramdisk_id>{ramdisk_id}</ramdisk_id>"
    manifest = (
        '<?xml version="1.0" ?><manifest><version>2007-10-10</version>'
        "<bundler><name>euca2ools-tests</name><version>3.4</version><release>0</release>"
        f"</bundler><machine_configuration>{config}</machine_configuration>"
        f"<image><name>{name}</name><user>000000000000</user><type>{image_type}</type>"
        f'<digest algorithm="SHA1">{hashlib.sha1(tarred).hexdigest()}</digest>'
        f"<size>{len(data)}</size><bundled_size>{len(blob)}</bundled_size>"
        f'<ec2_encrypted_key algorithm="AES-128-CBC">{wrapped(key)}</ec2_encrypted_key>'
        '<user_encrypted_key algorithm="AES-128-CBC"></user_encrypted_key>'
        f"<ec2_encrypted_iv>{wrapped(iv)}</ec2_encrypted_iv><user_encrypted_iv/>"
        f'<parts count="{len(parts)}">{parts_xml}</parts></image>'
        "<signature>UNSIGNED</signature></manifest>")
    return manifest.encode(), parts


def euca2ools_bundling() -> bool:
    """True when the euca2ools suite has its bundle commands installed."""
    return all((BIN / c).exists()
               for c in ("euca-bundle-image", "euca-upload-bundle", "euca-register"))


def upload_and_register(cloud: Any, image: Path, image_type: str, bucket: str,
                        **refs: str) -> str:
    """Bundle ``image``, upload it to ``bucket`` and register it; the image ID."""
    if euca2ools_bundling():
        return _with_euca2ools(cloud, image, image_type, bucket, **refs)
    return _with_boto3(cloud, image, image_type, bucket, **refs)


def _euca(cloud: Any, *argv: str) -> str:
    proc = subprocess.run([str(BIN / argv[0]), *argv[1:]], env=cloud.env(), capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, f"{' '.join(argv)}: {proc.stderr}"
    return proc.stdout


def _with_euca2ools(cloud: Any, image: Path, image_type: str, bucket: str,
                    **refs: str) -> str:
    """euca-bundle-image, euca-upload-bundle and euca-register, as a user runs them."""
    with tempfile.TemporaryDirectory(prefix="euca-bundle-") as out:
        kind = {"kernel": ["--kernel", "true"], "ramdisk": ["--ramdisk", "true"]}.get(
            image_type, [])
        if refs.get("kernel_id"):
            kind += ["--kernel", refs["kernel_id"]]
        if refs.get("ramdisk_id"):
            kind += ["--ramdisk", refs["ramdisk_id"]]
        _euca(cloud, "euca-bundle-image", "-i", str(image), "-r", "x86_64", "-d", out,
              "--no-progress", *kind)
        manifest = Path(out) / f"{image.name}.manifest.xml"
        _euca(cloud, "euca-upload-bundle", "-b", bucket, "-m", str(manifest), "--no-progress")
        # The kernel and ramdisk go to RegisterImage too: the cloud need not read them
        # from the manifest.
        register = [arg for key, opt in (("kernel_id", "--kernel"), ("ramdisk_id", "--ramdisk"))
                    if refs.get(key) for arg in (opt, refs[key])]
        text = _euca(cloud, "euca-register", f"{bucket}/{manifest.name}", "-n",
                     f"{bucket}-{image.name}", *register)
    return text.split()[1]  # "IMAGE\temi-..."


def _with_boto3(cloud: Any, image: Path, image_type: str, bucket: str, **refs: str) -> str:
    """The same bundle, written here and uploaded and registered with boto3."""
    import configparser

    ini = configparser.ConfigParser()
    ini.read(cloud.ini)
    region = next(s for s in ini.sections() if s.startswith("region "))
    cert = Path(ini[region]["certificate"]).read_bytes()
    manifest, parts = make_bundle(image, image_type, cert, **refs)
    s3 = cloud.client("s3")
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    for fname, chunk in parts.items():
        s3.put_object(Bucket=bucket, Key=fname, Body=chunk)
    s3.put_object(Bucket=bucket, Key=f"{image.name}.manifest.xml", Body=manifest)
    ec2 = cloud.client("ec2")
    return str(ec2.register_image(ImageLocation=f"{bucket}/{image.name}.manifest.xml",
                                  Name=f"{bucket}-{image.name}", **{
                                      k: v for k, v in (("KernelId", refs.get("kernel_id")),
                                                        ("RamdiskId", refs.get("ramdisk_id")))
                                      if v})["ImageId"])
