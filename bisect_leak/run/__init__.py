"""The run: the loop that probes candidates through the cache, searches, replicates, inspects."""
