"""``python -m harness``: see :mod:`harness.cli`."""

from harness.cli import main

raise SystemExit(main())
