"""Sign-in, roles and the guard every route passes through."""
