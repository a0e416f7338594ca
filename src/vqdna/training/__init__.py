"""Training engines for the three stages."""
