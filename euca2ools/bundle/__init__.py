"""Machine image bundles: the euca-bundle-image format and the S3 side of the bundle tools.

A bundle is ``tar(image) -> gzip -> AES-128-CBC -> parts of 10 MiB`` plus an XML manifest
whose AES key and IV are RSA-encrypted to the cloud's (and the user's) certificate
(reference §7.2).  Everything streams: an image of any size is bundled, uploaded,
downloaded and rebuilt with memory bounded by a few parts.

* :mod:`.keys`: certificates and private keys, RSA wrapping of the AES key, signatures;
* :mod:`.manifest`: the manifest document;
* :mod:`.pipeline`: bundling and unbundling streams;
* :mod:`.s3`: a small SigV4 S3 client (path-style) for uploads, downloads and deletes;
* :mod:`.progress`: terminal progress bars;
* :mod:`.tasks`: the commands' work as functions; :mod:`.invoke`: the commands' glue.

Usage from Python (the same steps as euca-bundle-image, euca-upload-bundle and
euca-download-and-unbundle)::

    from euca2ools.client import Session
    from euca2ools.bundle.keys import load_certificate, load_private_key
    from euca2ools.bundle.s3 import S3Client
    from euca2ools.bundle.tasks import (BundleSpec, find_bundle, make_bundle, remote_chunks,
                                        unbundle_to, upload_bundle)

    session = Session.from_config()
    cert = load_certificate(session.config.get_region(session.region, "certificate"))
    spec = BundleSpec(image="disk.img", prefix="disk.img", destination="/var/tmp/b",
                      architecture="x86_64", user=session.account_id, cloud_cert=cert,
                      image_size=os.path.getsize("disk.img"))
    manifest_path, manifest = make_bundle(spec)
    s3 = S3Client(session.endpoint("s3"), session.credentials)
    upload_bundle(s3, "bucket/prefix", manifest_path, None)  # "bucket/prefix/disk.img.manifest.xml"
    bundle = find_bundle(s3, "bucket/prefix", prefix="disk.img")
    unbundle_to(remote_chunks(s3, bundle), bundle.manifest, load_private_key("cloud-pk.pem"),
                "/var/tmp/disk-copy.img")

Errors are :class:`~.keys.BundleError` (bad bundles, keys, certificates) and the client
library's :class:`~euca2ools.exceptions.ServiceError` (S3's answers).
"""

from __future__ import annotations

PART_SIZE = 10 * 1024 * 1024
CHUNK = 1024 * 1024
