"""`python -m swapgraph`: the same as the `swapgraph` command."""

import sys

from swapgraph.cli import main

sys.exit(main())
