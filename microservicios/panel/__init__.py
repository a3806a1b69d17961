"""The live lab panel: the running cluster on one page, for the projector."""

from microservicios.panel.server import Panel

__all__ = ["Panel"]
