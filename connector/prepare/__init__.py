"""Inputs -> (HTTPRequest, Authorization header); pure: coercion, checks, rendering, auth."""
