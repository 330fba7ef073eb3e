"""`python -m thereyet ...`: the command line, as `thereyet ...`."""

import sys

from thereyet.cli.main import main

sys.exit(main())
