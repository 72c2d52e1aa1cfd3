"""Excel in and out: the import (dry run, commit, report), exports and confirmation forms (确认表).
Workbooks and PDFs themselves are read and written by ``app.documents``."""
