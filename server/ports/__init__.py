"""Typed interfaces between Eucalyptus components (reference eucalyptus.md §1.3)."""
