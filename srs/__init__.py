"""SRS: who is where in the building, live."""

__version__ = "0.1.0"
