"""Safe-house placement service: placement domain, kernel and the app that wires them."""
