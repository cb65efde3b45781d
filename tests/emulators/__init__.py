"""Stand-ins for the external services credkit talks to, served on loopback by the tests."""
