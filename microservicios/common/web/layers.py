"""Which of the per-request layers an app runs: all of them, always, except in a benchmark.

`bench/layer_cost.py` builds the same app with one layer off at a time to print what each
costs per request, in µs. A service never turns one off: this is not a setting, and it is
not in `Settings` (a student's app behaves the same whatever the machine).
"""

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class RequestLayers:
    tracing: bool = True  # request id and trace span, in context variables and the answer
    logs: bool = True  # one `http.request` record per request
    metrics: bool = True  # the request counter and latency histogram
    limits: bool = True  # RequestGuard: header limits, in-flight cap, whole bodies only
    faults: bool = True  # FaultMiddleware: injected latency, errors, hangs, drops


ALL_LAYERS = RequestLayers()
