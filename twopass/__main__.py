import sys

from .cli import main

if __name__ == "__main__":  # workers start by spawn/forkserver and must not re-run the command
    sys.exit(main())
