"""One module per lab: `CHECKS` (in order) and `HINTS` (from gentle to explicit)."""
