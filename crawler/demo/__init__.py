"""Demo: `regwatch demo` and the replay server with its recorded-format corpus."""
