"""Running the system: encryption keys and their rotation, the database as a whole, the demo seed."""
