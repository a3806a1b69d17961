"""cluster.panel() outside a notebook: a Spanish ClusterError, not an ImportError."""

import sys

import pytest

from microservicios.cluster import Cluster, ClusterError


def test_panel_without_ipython_says_what_to_do(monkeypatch, tmp_path):
    """With IPython missing (a plain `pip install -e .`), panel() points to panel_url()."""
    monkeypatch.setitem(sys.modules, "IPython", None)
    monkeypatch.setitem(sys.modules, "IPython.display", None)
    cluster = Cluster(ports="auto", data_dir=tmp_path)
    with pytest.raises(ClusterError, match="panel_url"):
        cluster.panel()
