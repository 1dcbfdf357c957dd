"""``python -m synthtrust`` runs the command line."""

from __future__ import annotations

import sys

from synthtrust.cli.main import main

sys.exit(main())
