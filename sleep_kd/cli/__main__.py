"""``python -m sleep_kd.cli COMMAND [options]``: the ``sleep-kd`` command without its launcher on the PATH."""

import sys

from sleep_kd.cli import main

if __name__ == "__main__":
    sys.exit(main())
