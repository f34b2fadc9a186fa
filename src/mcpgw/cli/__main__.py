"""`python -m mcpgw.cli`: the same as the `mcpgw` command."""

import sys

from mcpgw.cli.app import main

sys.exit(main())
