"""regwatch: tracks changes to US regulations and tells people what changed."""

__version__ = "0.1.0"
