import sys

from comparisons.bench import main

sys.exit(main())
