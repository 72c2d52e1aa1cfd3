"""Reports supervisors are judged on: the monthly report, school statistics (data as plain
dataclasses; renderers live in ``app.documents``)."""
