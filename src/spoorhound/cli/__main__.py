"""``python -m spoorhound.cli``."""

from spoorhound.cli.main import main

main()
