"""``python -m wyshbone.cli``: the command line."""

from wyshbone.cli import main

main()
