"""Running Confab: the local stack launcher, service checks, and deployment files."""
