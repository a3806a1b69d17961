"""What FastAPI sees of every app: the dependencies, middleware, error handlers and common
routes (/health, /metrics, /internal/faults, /docs) that read the app's context."""
