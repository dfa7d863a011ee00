import sys

from dlparity.cli import main

sys.exit(main())
