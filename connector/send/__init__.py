"""The only I/O: the transport, redirects, the retry policy and the one attempt loop."""
