import sys

from drumgenx.cli import main

sys.exit(main())
