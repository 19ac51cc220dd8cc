"""Families: households and their caregivers, self-reported availability, training and readiness.

Uses `placement.core` only; the placement domain may use this package, never the other way round.
"""
