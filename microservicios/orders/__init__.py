"""Orders service: places orders by checking the user and reserving stock in other services."""
