"""The only code that writes results outside the store: digest files (email and feeds later)."""
