"""The delivery log: everything we must tell the outside world (see services.py)."""
