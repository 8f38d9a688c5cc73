"""The bundle manifest (``PREFIX.manifest.xml``), written as euca2ools 3.4 writes it.

The signature covers the serialized ``machine_configuration`` element followed by the
serialized ``image`` element.  Both are written here exactly as they are signed, so a
verifier that re-serializes the parsed elements the same way gets the same bytes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .. import __version__
from .keys import BundleError, sign, unwrap

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

MANIFEST_VERSION = "2007-10-10"
IMAGE_TYPES = ("machine", "kernel", "ramdisk")


@dataclass
class ManifestPart:
    """One part of a bundle: its file name and SHA-1."""

    filename: str
    digest: str
    size: int = 0


@dataclass
class Manifest:
    """Everything a bundle manifest says."""

    name: str
    user: str
    architecture: str
    image_type: str = "machine"
    digest: str = ""  # SHA-1 of the tar stream
    size: int = 0  # bytes of the original image
    bundled_size: int = 0  # bytes of all parts
    ec2_encrypted_key: str = ""
    ec2_encrypted_iv: str = ""
    user_encrypted_key: str = ""
    user_encrypted_iv: str = ""
    parts: list[ManifestPart] = field(default_factory=list)
    kernel_id: str = ""
    ramdisk_id: str = ""
    block_device_mappings: list[tuple[str, str]] = field(default_factory=list)
    product_codes: list[str] = field(default_factory=list)
    signature: str = "UNSIGNED"
    bundler: tuple[str, str, str] = ("euca2ools", __version__, "0")

    # -- writing ----------------------------------------------------------------------
    def _machine_configuration(self) -> ET.Element:
        config = ET.Element("machine_configuration")
        ET.SubElement(config, "architecture").text = self.architecture
        if self.image_type == "machine" and self.block_device_mappings:
            bdm = ET.SubElement(config, "block_device_mapping")
            for virtual, device in self.block_device_mappings:
                mapping = ET.SubElement(bdm, "mapping")
                ET.SubElement(mapping, "virtual").text = virtual
                ET.SubElement(mapping, "device").text = device
        if self.image_type == "machine" and self.product_codes:
            codes = ET.SubElement(config, "product_codes")
            for code in self.product_codes:
                ET.SubElement(codes, "product_code").text = code
        if self.kernel_id:
            ET.SubElement(config, "kernel_id").text = self.kernel_id
        if self.ramdisk_id:
            ET.SubElement(config, "ramdisk_id").text = self.ramdisk_id
        return config

    def _image(self) -> ET.Element:
        image = ET.Element("image")
        ET.SubElement(image, "name").text = self.name
        ET.SubElement(image, "user").text = self.user
        ET.SubElement(image, "type").text = self.image_type
        ET.SubElement(image, "digest", algorithm="SHA1").text = self.digest
        ET.SubElement(image, "size").text = str(self.size)
        ET.SubElement(image, "bundled_size").text = str(self.bundled_size)
        ET.SubElement(image, "ec2_encrypted_key", algorithm="AES-128-CBC").text = \
            self.ec2_encrypted_key
        ET.SubElement(image, "user_encrypted_key", algorithm="AES-128-CBC").text = \
            self.user_encrypted_key
        ET.SubElement(image, "ec2_encrypted_iv").text = self.ec2_encrypted_iv
        ET.SubElement(image, "user_encrypted_iv").text = self.user_encrypted_iv
        parts = ET.SubElement(image, "parts", count=str(len(self.parts)))
        for index, part in enumerate(self.parts):
            elem = ET.SubElement(parts, "part", index=str(index))
            ET.SubElement(elem, "filename").text = part.filename
            ET.SubElement(elem, "digest", algorithm="SHA1").text = part.digest
        return image

    def signed_data(self) -> bytes:
        """The bytes the signature covers: ``machine_configuration`` then ``image``."""
        return _serialize(self._machine_configuration()) + _serialize(self._image())

    def to_xml(self, signing_key: RSAPrivateKey | None = None) -> bytes:
        """The manifest document, signed with ``signing_key`` or marked ``UNSIGNED``."""
        config, image = self._machine_configuration(), self._image()
        signed = _serialize(config) + _serialize(image)
        self.signature = sign(signing_key, signed) if signing_key is not None else "UNSIGNED"
        bundler = "".join(f"<{tag}>{_text(value)}</{tag}>"
                          for tag, value in zip(("name", "version", "release"), self.bundler,
                                                strict=True))
        return (b'<?xml version="1.0" encoding="UTF-8"?>\n<manifest>'
                + f"<version>{MANIFEST_VERSION}</version><bundler>{bundler}</bundler>"
                .encode() + signed + f"<signature>{self.signature}</signature>".encode()
                + b"</manifest>\n")

    # -- reading ----------------------------------------------------------------------
    @classmethod
    def from_xml(cls, data: bytes, source: str = "manifest") -> Manifest:
        """Parse a manifest; BundleError if ``data`` is not one."""
        import defusedxml.ElementTree as DET

        try:
            root = DET.fromstring(data)
        except Exception as err:  # defusedxml raises several kinds; all mean "not a manifest"
            raise BundleError(f"{source} is not valid XML: {err}") from None
        image = root.find("image")
        if root.tag != "manifest" or image is None:
            raise BundleError(f"{source} is not a bundle manifest")
        config = root.find("machine_configuration")
        if config is None:
            config = ET.Element("machine_configuration")
        parts = []
        for elem in image.findall("parts/part"):
            parts.append((int(elem.get("index", "0")),
                          ManifestPart(_find(elem, "filename"), _find(elem, "digest").lower())))
        parts.sort(key=lambda item: item[0])
        # Readers before 3.4 expected block_device_mappings/block_device_mapping and
        # productcodes/product_code; accept both spellings.
        mappings = [(_find(m, "virtual"), _find(m, "device"))
                    for m in config.findall("block_device_mapping/mapping")
                    + config.findall("block_device_mappings/block_device_mapping")]
        codes = [c.text or "" for c in config.findall("product_codes/product_code")
                 + config.findall("productcodes/product_code")]
        bundler = root.find("bundler")
        try:
            size = int(_find(image, "size") or 0)
            bundled_size = int(_find(image, "bundled_size") or 0)
        except ValueError:
            raise BundleError(f"{source}: size is not a number") from None
        return cls(
            name=_find(image, "name"), user=_find(image, "user"),
            architecture=_find(config, "architecture"),
            image_type=_find(image, "type") or "machine", digest=_find(image, "digest").lower(),
            size=size, bundled_size=bundled_size,
            ec2_encrypted_key=_find(image, "ec2_encrypted_key"),
            ec2_encrypted_iv=_find(image, "ec2_encrypted_iv"),
            user_encrypted_key=_find(image, "user_encrypted_key"),
            user_encrypted_iv=_find(image, "user_encrypted_iv"),
            parts=[p for _, p in parts], kernel_id=_find(config, "kernel_id"),
            ramdisk_id=_find(config, "ramdisk_id"), block_device_mappings=mappings,
            product_codes=codes, signature=_find(root, "signature") or "UNSIGNED",
            bundler=(_find(bundler, "name"), _find(bundler, "version"), _find(bundler, "release"))
            if bundler is not None else ("", "", ""))

    def decrypt_key(self, private_key: RSAPrivateKey, key_path: str = "") -> tuple[bytes, bytes]:
        """The AES key and IV: the user's copies first, then the cloud's (reference §7.2)."""
        pairs = [(self.user_encrypted_key, self.user_encrypted_iv),
                 (self.ec2_encrypted_key, self.ec2_encrypted_iv)]
        for enc_key, enc_iv in pairs:
            if not enc_key or not enc_iv:
                continue
            try:
                key, iv = unwrap(private_key, enc_key), unwrap(private_key, enc_iv)
            except BundleError:
                continue
            if len(key) == 16 and len(iv) == 16:
                return key, iv
        where = f" {key_path}" if key_path else ""
        raise BundleError(f"cannot decrypt the bundle's key with private key{where}: it is not "
                          "the key of the user or cloud certificate the bundle was made for")


def _serialize(elem: ET.Element) -> bytes:
    return bytes(ET.tostring(elem, encoding="utf-8", xml_declaration=False,
                             short_empty_elements=False))


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _find(elem: ET.Element, path: str) -> str:
    found = elem.find(path)
    return (found.text or "").strip() if found is not None else ""
