"""regwatch: tracks changes to US regulations and tells people what changed."""
