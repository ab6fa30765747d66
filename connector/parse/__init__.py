"""Responses -> results or typed errors: whole answers and streamed JSON lines."""
