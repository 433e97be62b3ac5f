"""The application room: the ``srs`` command line, ``srs init``, the demo and its helpers.

The only place that knows every component: it assembles the command line and the
whole configuration from the components' parts. Nothing below imports from here
(docs/architecture.md; tests/test_layers.py checks it).
"""
