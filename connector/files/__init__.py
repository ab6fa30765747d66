"""Records read from input files and written to output files (the engines use them too)."""
