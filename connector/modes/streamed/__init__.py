"""The streamed mode: a date range read as windows of days, each complete before it is kept."""
