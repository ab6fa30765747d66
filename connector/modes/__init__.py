"""One strategy per mode (single, paged, streamed, batched), each running a Call."""
