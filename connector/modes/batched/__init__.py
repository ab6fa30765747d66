"""The batched mode: any number of records sent in right-sized requests, answers merged."""
