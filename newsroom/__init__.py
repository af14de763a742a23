"""newsroom: press-release publishing pipeline for public offices."""
