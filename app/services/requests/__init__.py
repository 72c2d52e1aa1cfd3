"""Registry business (办件): the request workflow, the kinds of request (each declared once, in
``kinds/``), who the parties are, notices, transfers (the one look outside the jurisdiction), evidence."""
