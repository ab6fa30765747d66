"""Building blocks every stage shares: form values, secret masking, spec templates."""
