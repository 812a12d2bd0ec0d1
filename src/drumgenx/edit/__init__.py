"""The editor: change an event grid by hand; every edit writes a new version."""
