#!/usr/bin/env python3
"""Entry point of the local harness (``python3 setup/harness.py <command>``, what the Makefile
runs): the code is in the package ``setup/harness/``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.cli import main

if __name__ == "__main__":
    sys.exit(main())
