"""Holds and placements of youth in beds."""
