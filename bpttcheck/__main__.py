"""``python -m bpttcheck``: the same as the ``bpttcheck`` command."""

import os

try:  # Ctrl-C while the modules load: exit 130 quietly (the CLI handles it afterwards)
    from .cli import main
except KeyboardInterrupt:
    os._exit(130)  # not sys.exit: see bpttcheck.cli.main

main()
