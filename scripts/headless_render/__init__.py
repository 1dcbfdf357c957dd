"""Headless pictures of the module's results layout (README figure, rendering tests); not installed."""
