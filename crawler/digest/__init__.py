"""Pure: what happened on a day (rows and records) -> template contexts -> rendered text."""
