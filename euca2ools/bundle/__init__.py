"""Machine image bundles: the euca-bundle-image format and the S3 side of the bundle tools.

A bundle is ``tar(image) -> gzip -> AES-128-CBC -> parts of 10 MiB`` plus an XML manifest
whose AES key and IV are RSA-encrypted to the cloud's (and the user's) certificate
(reference §7.2).  Everything streams: an image of any size is bundled, uploaded,
downloaded and rebuilt with memory bounded by a few parts.

* :mod:`.keys`: certificates and private keys, RSA wrapping of the AES key, signatures;
* :mod:`.manifest`: the manifest document;
* :mod:`.pipeline`: bundling and unbundling streams;
* :mod:`.s3`: a small SigV4 S3 client (path-style) for uploads, downloads and deletes;
* :mod:`.progress`: terminal progress bars.
"""

from __future__ import annotations

PART_SIZE = 10 * 1024 * 1024
CHUNK = 1024 * 1024
