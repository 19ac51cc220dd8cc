"""Reminders: a daily job writes what is due to a notifications outbox; people read theirs."""
