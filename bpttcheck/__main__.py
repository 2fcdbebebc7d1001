"""``python -m bpttcheck``: the same as the ``bpttcheck`` command."""

from .cli import main

main()
