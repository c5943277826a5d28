"""``python -m fastgd``: the same as the ``fastgd`` console script."""

from .cli import main

raise SystemExit(main())
