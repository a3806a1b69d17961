"""Users service: a small CRUD of users with unique e-mail addresses."""
