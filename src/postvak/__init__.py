"""Postvak: an open-source national government digital mailbox."""

__version__ = "0.1.0"
API_VERSION = "1.0.0"
