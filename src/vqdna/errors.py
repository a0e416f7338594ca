"""The one line between a user's mistake and a bug in vqdna.

Everything vqdna raises about what it was given (an option, a config value, a file, a record, a
folder) is a `UserError`: the command line prints its message, which names the option, file,
record or line and the problem, and exits with status 2. Any other exception is a bug in vqdna;
the command line then shows the traceback and asks for a report. `UserError` is a `ValueError` so
that library callers who catch `ValueError` keep working.
"""

from __future__ import annotations

# where the command line asks users to report bugs (the project has no public tracker address yet)
BUG_REPORT = "the vqdna issue tracker"


class UserError(ValueError):
    """Bad input: the message says which option, file, record or line, and what is wrong with it."""
