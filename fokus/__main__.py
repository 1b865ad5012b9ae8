import sys

from fokus.cli import main

sys.exit(main())
