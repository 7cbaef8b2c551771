"""Pure parsers: payload bytes in, records out (crawler.records). No I/O here."""
