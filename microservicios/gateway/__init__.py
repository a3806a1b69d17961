"""API gateway: the single entry point that forwards /users, /items and /orders."""
