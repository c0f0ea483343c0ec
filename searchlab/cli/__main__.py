"""``python -m searchlab.cli``: the same entry point as the ``searchlab`` command."""

import sys

from searchlab.cli.main import main

sys.exit(main())
