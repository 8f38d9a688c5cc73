"""Walrus: the S3-compatible object store (entry point: :mod:`server.walrus.service`)."""
