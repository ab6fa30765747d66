"""One module per API: each turns requests into model calls and answers in that API's shape."""
