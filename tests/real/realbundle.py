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
import tarfile
from pathlib import Path
from typing import Any

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


def upload_and_register(cloud: Any, image: Path, image_type: str, bucket: str,
                        **refs: str) -> str:
    """Bundle ``image``, upload it to ``bucket`` and register it; the image ID."""
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
