"""Registry business (办件): the request workflow, what each kind checks and does, who the parties
are, transfers (the one look outside the jurisdiction), evidence."""
