"""The training catalog, caregivers' completions, readiness rules and readiness."""
