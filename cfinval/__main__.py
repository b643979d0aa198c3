"""``python -m cfinval``: the ``cfinval`` command."""

from ._cli import main

raise SystemExit(main())
