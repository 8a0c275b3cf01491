import sys

from text3d.cli import main

sys.exit(main())
