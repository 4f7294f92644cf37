"""The package version (a leaf module: the admin API reads it without importing the toolkit)."""

__version__ = "0.1.0"
