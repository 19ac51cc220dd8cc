"""Match requests: the service's side of the matcher (loading, solving off the event loop, storing)."""
