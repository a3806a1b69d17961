"""The benchmark's per-layer costs (bench/layer_cost.py): every layer gets a line."""

from microservicios.bench import layer_cost


def test_every_layer_gets_a_figure_and_a_spanish_line():
    """A tiny measurement still names every variant, with a number of µs for each."""
    costs = layer_cost.measure(blocks=2, requests=3)
    labels = [label for label, _, _ in layer_cost.VARIANTS]
    assert list(costs.saved) == labels[1:]
    assert costs.everything_on > 0
    lines = layer_cost.report(costs)
    assert lines[0].startswith("Costo por capa de GET /users/{id}")
    assert len(lines) == len(labels) + 1
    assert all("µs" in line for line in lines[1:])
    assert all("ahorra" in line for line in lines[2:])
