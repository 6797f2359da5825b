"""Paper fallback: messages rendered to PDF and handed to a print provider in batches, each printed once."""
