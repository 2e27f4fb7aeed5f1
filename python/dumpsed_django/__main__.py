"""``python -m dumpsed_django``: the same as the ``dumpsed-django`` command."""
import sys

from .translate import main

sys.exit(main())
