"""Running the system: encryption keys and their rotation, the demo seed."""
