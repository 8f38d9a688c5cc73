"""TUI test helpers: the fake cloud module on sys.path, and a wait-until for pilots."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
