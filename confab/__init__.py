"""The edges of Confab: settings, the composition root and the `confab` command line."""
