"""What every service is built from: `build_app` (service_app.py), the app's FastAPI side
(web/), its typed context (context.py), and the parts below them: the HTTP client between
services, breaker, retries, settings, the service registry, auth, faults, limits."""
