"""Kernel: settings, database, security, audit, errors and the job queue."""
