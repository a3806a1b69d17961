"""The names of the log events, in one place for the code that writes them and the code
that reads them (traces, the cluster's log book, the panel).

Each record's `event` field holds one of these names as a plain string, so the JSON lines,
`cluster.logs(event="order.created")` and a notebook that filters by name are unchanged.
"""

# One per request a service served, and one per attempt of an outgoing call: the spans.
HTTP_REQUEST = "http.request"
HTTP_CALL = "http.call"
SPAN_EVENTS = (HTTP_REQUEST, HTTP_CALL)
HTTP_INCOMPLETE_BODY = "http.incomplete_body"  # the client left before its body arrived

# A breaker's transitions (caller, target, from_state, to_state, at_epoch, reason).
BREAKER_OPENED = "breaker.opened"
BREAKER_HALF_OPEN = "breaker.half_open"
BREAKER_CLOSED = "breaker.closed"
BREAKER_EVENTS = (BREAKER_OPENED, BREAKER_HALF_OPEN, BREAKER_CLOSED)
RETRY_BUDGET_EXHAUSTED = "retry.budget_exhausted"

# A service's life, its faults and its database.
SERVICE_STARTED = "service.started"
SERVICE_STOPPED = "service.stopped"
AUTH_UNSAFE_SECRET = "auth.unsafe_secret"
AUTH_DEFAULT_SECRET = "auth.default_secret"
FAULTS_INJECTED = "faults.injected"
FAULTS_HEALED = "faults.healed"
DATABASE_UNAVAILABLE = "database.unavailable"
DATABASE_SCHEMA_MISMATCH = "database.schema_mismatch"
DATABASE_SCHEMA_UNKNOWN = "database.schema_unknown"
DATABASE_MIGRATED = "database.migrated"

# What the services did.
USER_CREATED = "user.created"
USER_DELETED = "user.deleted"
USER_NOT_FOUND = "user.not_found"
ITEM_CREATED = "item.created"
ITEM_NOT_FOUND = "item.not_found"
ITEM_NO_STOCK = "item.no_stock"
STOCK_RESERVED = "stock.reserved"
STOCK_RELEASED = "stock.released"
ORDER_CREATED = "order.created"
ORDER_RECOVERED = "order.recovered"
ORDER_DEPENDENCY_UNAVAILABLE = "order.dependency_unavailable"
ORDER_FAILED = "order.failed"
RESERVATION_RELEASED = "reservation.released"
