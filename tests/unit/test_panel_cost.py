"""The bench's closed-panel figure: µs per record handed to a panel nobody reads."""

from microservicios.bench.panel_cost import Figures, closed_panel_us, report


def test_the_closed_panel_figure_is_measured_and_printed():
    """A few real-looking records give a positive µs figure, and the report prints it."""
    records = [
        {"event": "http.request", "service": "users", "status": 200, "duration_ms": 1.0,
         "trace_id": f"t{n}", "request_id": f"r{n}", "parent_span_id": None, "path": "/users/1"}
        for n in range(50)
    ]  # fmt: skip
    figure = closed_panel_us(records, repeats=2)
    assert figure > 0
    without = Figures([1.0], [100.0], closed_us=figure, records=len(records))
    lines = report(without, Figures([1.0], [99.0]))
    assert lines[-1].startswith(f"Panel cerrado: {figure:.2f} µs por registro")
