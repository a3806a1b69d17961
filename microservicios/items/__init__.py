"""Items service: inventory with stock, and internal routes to reserve and release it."""
