"""Frozen dataclasses of the domain and str Enums whose values are AWS's state names."""
