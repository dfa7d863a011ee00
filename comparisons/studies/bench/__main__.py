import sys

from comparisons.studies.bench import main

sys.exit(main())
