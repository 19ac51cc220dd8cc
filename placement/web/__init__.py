"""Server-rendered pages for every role, on the same services and guards as the API."""
